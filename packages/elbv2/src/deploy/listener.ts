// Deployer of listeners: create (a listener already on our port — a crashed run's — is brought to the
// model instead), modify, delete. Certificates beyond the default one are added once, at creation.
import { AddListenerCertificatesCommand, CreateListenerCommand, DeleteListenerCommand, ModifyListenerCommand, type ProtocolEnum } from '@aws-sdk/client-elastic-load-balancing-v2';
import { toSdkActions, type ElbAction } from '../aws/actions.ts';
import { describeListeners } from '../aws/reads.ts';
import type { ListenerChange } from '../changes.ts';
import type { ActionModel, ListenerModel } from '../model.ts';
import { codeOf, gone, type Deployment } from './deployment.ts';

const SECURE = new Set(['HTTPS', 'TLS']);

/** A model action as the SDK's, target groups by the ARNs found or created so far. */
export function sdkActions(run: Deployment, a: ActionModel) {
  const elb: ElbAction = a.type === 'forward' ? { type: 'forward', targetGroups: a.targetGroups.map((t) => ({ arn: run.tgArn(t.name), weight: t.weight })) } : a;
  return toSdkActions([elb]);
}

function listenerInput(run: Deployment, l: ListenerModel) {
  const secure = SECURE.has(l.protocol);
  return {
    Port: l.port,
    Protocol: l.protocol as ProtocolEnum,
    DefaultActions: sdkActions(run, l.defaultAction),
    ...(secure && l.certificateArns?.[0] ? { Certificates: [{ CertificateArn: l.certificateArns[0] }] } : {}),
    ...(secure && l.sslPolicy ? { SslPolicy: l.sslPolicy } : {}),
    ...(secure && l.alpnPolicy ? { AlpnPolicy: [l.alpnPolicy] } : {}),
  };
}

export async function deployListener(run: Deployment, a: ListenerChange): Promise<void> {
  const { elbv2 } = run.clients;
  const result = run.result;
  switch (a.op) {
    case 'createListener': {
      const lbArn = run.lbArn();
      let arn: string | undefined;
      try {
        arn = (await elbv2.send(new CreateListenerCommand({ LoadBalancerArn: lbArn, ...listenerInput(run, a.listener) }))).Listeners?.[0]?.ListenerArn;
      } catch (e) {
        if (codeOf(e) !== 'DuplicateListener') throw e;
        arn = (await describeListeners(elbv2, lbArn)).find((l) => l.port === a.listener.port)?.arn;
        if (!arn) throw e;
        await elbv2.send(new ModifyListenerCommand({ ListenerArn: arn, ...listenerInput(run, a.listener) }));
      }
      if (!arn) throw new Error('CreateListener returned no listener');
      result.listenerArns.set(a.listener.port, arn);
      const sni = SECURE.has(a.listener.protocol) ? (a.listener.certificateArns ?? []).slice(1) : [];
      if (sni.length > 0) await elbv2.send(new AddListenerCertificatesCommand({ ListenerArn: arn, Certificates: sni.map((CertificateArn) => ({ CertificateArn })) }));
      return;
    }
    case 'modifyListener':
      await elbv2.send(new ModifyListenerCommand({ ListenerArn: a.arn, ...listenerInput(run, a.listener) }));
      return;
    case 'deleteListener':
      await gone(() => elbv2.send(new DeleteListenerCommand({ ListenerArn: a.arn })));
      if (result.listenerArns.get(a.port) === a.arn) result.listenerArns.delete(a.port);
      result.rules = result.rules.filter((r) => r.listenerPort !== a.port);
      return;
  }
}
