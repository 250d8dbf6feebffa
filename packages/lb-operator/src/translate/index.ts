export { selectService } from './select.ts';
export type { SelectedBy } from './select.ts';
export { translateService, formatTranslateErrors } from './service.ts';
export type { TranslateError, TranslateResult } from './service.ts';
export { foreignInstances, serviceHostname, serviceRefConflict, servesService } from './serving.ts';
export { parseKeyValues, parseList, parseInteger, parseBoolean } from '@kube-iaas/core';
