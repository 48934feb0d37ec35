// The workflow bundle's entry: every workflow type the worker registers.
export { scheduledJob, progressQuery } from './scheduledJob';
export { ingestObjectBatch } from './handlers/ingestNotificationViews';
export { kafkaConsumer, consumerIngest } from './consumers';
export { jobCatalog } from './catalog';
