/**
 * Placeholder pod addresses for nodes whose pods no CNI wires (no namespaces on this machine, or no
 * eni-operator serving the node): 100.64.0.0/10 (shared address space) makes clear these are not VPC addresses.
 */
export class LocalPodIps {
  private readonly byUid = new Map<string, string>();
  private readonly used = new Set<string>();

  get(uid: string, nodeIndex: number, current: string | undefined): string {
    const known = this.byUid.get(uid) ?? current;
    if (known) {
      this.byUid.set(uid, known);
      this.used.add(known);
      return known;
    }
    for (let n = 2; n < 65_000; n++) {
      const ip = `100.${64 + (nodeIndex % 64)}.${Math.floor(n / 256)}.${n % 256}`;
      if (n % 256 === 0 || n % 256 === 255 || this.used.has(ip)) continue;
      this.used.add(ip);
      this.byUid.set(uid, ip);
      return ip;
    }
    throw new Error('simulated pod address space exhausted');
  }

  release(uid: string): void {
    const ip = this.byUid.get(uid);
    if (ip) this.used.delete(ip);
    this.byUid.delete(uid);
  }
}
