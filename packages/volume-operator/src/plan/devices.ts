// Device names for EBS attachments. Pure.
//
// Names follow the EBS CSI driver's range, /dev/xvdba … /dev/xvdzz (650 names), leaving /dev/xvda,
// /dev/sda1 and single-letter names to the root volume and the AMI's mappings. On Nitro instances the
// name is only a label (the node finds the NVMe device by the volume ID), but EC2 still refuses a name
// already mapped on the instance, so a name is never picked while it is in use or reserved by an
// attach still in flight.

/** Every name we may hand out, in the order they are tried. */
export const DEVICE_NAMES: readonly string[] = (() => {
  const out: string[] = [];
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  for (const first of letters.slice(1)) for (const second of letters) out.push(`/dev/xvd${first}${second}`);
  return out;
})();

/**
 * `/dev/sdf`, `sdf`, `/dev/xvdf` all name the same slot: EC2 maps sdX and xvdX onto one another.
 * Returns the canonical `xvd…` name (partition digits dropped).
 */
export function canonicalDevice(name: string): string {
  let n = name.trim().replace(/^\/dev\//, '');
  if (n.startsWith('sd')) n = `xvd${n.slice(2)}`;
  n = n.replace(/p?\d+$/, '');
  return `/dev/${n}`;
}

/**
 * The first free device name, or undefined when every name is taken. `inUse` are names mapped on the
 * instance now (DescribeInstances' BlockDeviceMappings); `inFlight` are names reserved by attaches
 * started but not yet visible there.
 */
export function pickDevice(inUse: Iterable<string>, inFlight: Iterable<string> = []): string | undefined {
  const taken = new Set<string>();
  for (const d of inUse) taken.add(canonicalDevice(d));
  for (const d of inFlight) taken.add(canonicalDevice(d));
  return DEVICE_NAMES.find((d) => !taken.has(d));
}

/**
 * Reservations of device names per instance for attaches in flight. A name is reserved (synchronously,
 * right after the instance's mappings were read) before AttachVolume and released once the mapping is
 * visible in a describe or the attach failed, so two concurrent attaches to one instance never pick
 * the same name.
 */
export class DeviceReservations {
  readonly #byInstance = new Map<string, Map<string, string>>();

  /** Picks and reserves a free name for `volumeId` on `instanceId`; reuses the volume's own reservation. */
  reserve(instanceId: string, volumeId: string, inUse: Iterable<string>): string | undefined {
    const mine = this.reservedFor(instanceId, volumeId);
    if (mine) return mine;
    let m = this.#byInstance.get(instanceId);
    const device = pickDevice(inUse, m?.keys() ?? []);
    if (!device) return undefined;
    if (!m) this.#byInstance.set(instanceId, (m = new Map()));
    m.set(device, volumeId);
    return device;
  }

  reservedFor(instanceId: string, volumeId: string): string | undefined {
    for (const [d, v] of this.#byInstance.get(instanceId) ?? []) if (v === volumeId) return d;
    return undefined;
  }

  release(instanceId: string, volumeId: string): void {
    const m = this.#byInstance.get(instanceId);
    if (!m) return;
    for (const [d, v] of m) if (v === volumeId) m.delete(d);
    if (m.size === 0) this.#byInstance.delete(instanceId);
  }

  inFlight(instanceId: string): string[] {
    return [...(this.#byInstance.get(instanceId)?.keys() ?? [])];
  }

  get size(): number {
    let n = 0;
    for (const m of this.#byInstance.values()) n += m.size;
    return n;
  }
}
