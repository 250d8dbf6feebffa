import pkg from '../../package.json' with { type: 'json' };

export const DRIVER_NAME = 'ebs.kube-iaas.dev';

/** The CSI Identity service of the node plugin. (DRIVER_NAME is also in src/constants.ts, which imports the CRDs; a unit test keeps the two equal.) */
export function identityHandlers(isReady: () => boolean) {
  return {
    GetPluginInfo: async () => ({ name: DRIVER_NAME, vendorVersion: pkg.version, manifest: {} }),
    GetPluginCapabilities: async () => ({
      capabilities: [{ service: { type: 'VOLUME_ACCESSIBILITY_CONSTRAINTS' } }, { volumeExpansion: { type: 'ONLINE' } }],
    }),
    Probe: async () => ({ ready: { value: isReady() } }),
  };
}
