import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';

/** Where a simulated pod stands: waiting for something a real kubelet would wait for, or running. */
export type PodGate = { ready: true; podIP: string } | { ready: false; reason: string; message: string };

/** kubelet's visible part for a pod: phase, conditions, container states and the pod IP. */
export function podStatus(pod: V1Pod, hostIP: string, gate: PodGate, now: Date): V1PodStatus {
  const containers = pod.spec?.containers ?? [];
  const started = pod.status?.startTime ?? now;
  if (!gate.ready) {
    return {
      phase: 'Pending',
      hostIP,
      hostIPs: [{ ip: hostIP }],
      startTime: started,
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
        { type: 'Initialized', status: 'True', lastTransitionTime: now },
        { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: now },
        { type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: now },
      ],
      containerStatuses: containers.map((c) => ({
        name: c.name,
        image: c.image ?? '',
        imageID: '',
        ready: false,
        restartCount: 0,
        started: false,
        state: { waiting: { reason: gate.reason, message: gate.message } },
      })),
    };
  }
  return {
    phase: 'Running',
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP: gate.podIP,
    podIPs: [{ ip: gate.podIP }],
    startTime: started,
    conditions: ['PodReadyToStartContainers', 'PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({
      type,
      status: 'True',
      lastTransitionTime: now,
    })),
    containerStatuses: containers.map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: `simulated://${c.image ?? ''}`,
      containerID: `simulated://${pod.metadata?.uid ?? ''}/${c.name}`,
      ready: true,
      restartCount: 0,
      started: true,
      state: { running: { startedAt: now } },
    })),
  };
}

export function isRunningAs(pod: V1Pod, podIP: string): boolean {
  return pod.status?.phase === 'Running' && pod.status.podIP === podIP;
}
