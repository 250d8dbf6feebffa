// Deleting an ENI never waits inside the reconcile: a detach AWS has not finished yet becomes a
// requeue (RetryAfterError), and the next round deletes without detaching again.
import { describe, expect, it } from 'vitest';
import { RetryAfterError } from '@kube-iaas/core/runtime';
import { type AwsClients } from '@kube-iaas/core/aws';
import { DETACHING_RECHECK_MS, deleteEni } from '../../src/aws/eni.ts';

const OWNER = { kind: 'EniPool', name: 'ip-192-168-193-10', uid: 'u-1' };

/** EC2 at core's typed boundary: records each command; DeleteNetworkInterface answers `deleteAnswer`. */
function clients(deleteAnswer: 'ok' | 'in-use' | 'not-found') {
  const sent: string[] = [];
  const send = async (cmd: { constructor: { name: string } }): Promise<object> => {
    const name = cmd.constructor.name.replace(/Command$/, '');
    sent.push(name);
    if (name === 'DeleteNetworkInterface' && deleteAnswer !== 'ok') {
      const code = deleteAnswer === 'in-use' ? 'InvalidNetworkInterface.InUse' : 'InvalidNetworkInterfaceID.NotFound';
      throw Object.assign(new Error(`${code}: eni-1`), { name: code, Code: code, $metadata: { httpStatusCode: 400 } });
    }
    return {};
  };
  const aws = { ec2: { send }, guard: { asOwner: <T>(_o: unknown, fn: () => T): T => fn() } } as unknown as AwsClients;
  return { aws, sent };
}

describe('deleteEni', () => {
  it('detaches then deletes at once when AWS allows it (no describe, no wait)', async () => {
    const { aws, sent } = clients('ok');
    await deleteEni(aws, OWNER, { id: 'eni-1', attachment: { id: 'eni-attach-1', deviceIndex: 1, status: 'attached' } });
    expect(sent).toEqual(['DetachNetworkInterface', 'DeleteNetworkInterface']);
  });

  it('an ENI still detaching is a requeue after DETACHING_RECHECK_MS, returned without sleeping', async () => {
    const { aws, sent } = clients('in-use');
    const t0 = performance.now();
    const err = await deleteEni(aws, OWNER, { id: 'eni-1', attachment: { id: 'eni-attach-1', deviceIndex: 1, status: 'attached' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryAfterError);
    expect((err as RetryAfterError).retryAfterMs).toBe(DETACHING_RECHECK_MS);
    expect((err as Error).message).toContain('eni-1 is still detaching');
    expect(sent).toEqual(['DetachNetworkInterface', 'DeleteNetworkInterface']);
    expect(performance.now() - t0).toBeLessThan(DETACHING_RECHECK_MS);
  });

  it('the next round does not detach an ENI that is detaching again, and deletes it', async () => {
    const { aws, sent } = clients('ok');
    await deleteEni(aws, OWNER, { id: 'eni-1', attachment: { id: 'eni-attach-1', deviceIndex: 1, status: 'detaching' } });
    expect(sent).toEqual(['DeleteNetworkInterface']);
  });

  it('an ENI already gone is done; a primary ENI (device index 0) is never touched', async () => {
    const gone = clients('not-found');
    await deleteEni(gone.aws, OWNER, { id: 'eni-1', attachment: undefined });
    expect(gone.sent).toEqual(['DeleteNetworkInterface']);
    const primary = clients('ok');
    await deleteEni(primary.aws, OWNER, { id: 'eni-0', attachment: { id: 'eni-attach-0', deviceIndex: 0 } });
    expect(primary.sent).toEqual([]);
  });
});
