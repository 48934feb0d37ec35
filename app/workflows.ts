// The workflow bundle's entry: every workflow type the worker registers, and the features' job handlers under the
// names their definitions give.
import { registerJobHandlers } from '../workflows/jobHandler';
import { jobHandlers } from './jobHandlers';

registerJobHandlers(jobHandlers);

export { scheduledJob, progressQuery } from '../workflows/scheduledJob';
export { ingestObjectBatch } from '../features/notificationViews/workflows';
export { kafkaConsumer } from '../workflows/kafkaConsumer';
export { consumerIngest } from '../workflows/consumerIngest';
export { jobCatalog } from '../workflows/catalog';
export { scheduleTick } from '../workflows/scheduleTick';
export { backfill, backfillProgressQuery } from '../workflows/backfill';
export { concurrencyPermit } from '../workflows/permits';
export { deliverAlert, freshnessWatch } from '../workflows/alerts';
