export { createHttpClient, refreshDelayMs, API_PREFIX } from './http';
export type { HttpClient, HttpClientOptions, RequestOptions, SessionHooks } from './http';
export { asList, createNexusApi, MAX_PAGE_LIMIT } from './endpoints';
export type { NexusApi } from './endpoints';
export { ApiError, isApiError, describeError } from './errors';
export type * from './types';
export { ACCEPTED_IMAGE_TYPES, MAX_UPLOAD_BYTES, uploadErrorText } from './uploads';
export type { UploadHandle, UploadOptions } from './uploads';
