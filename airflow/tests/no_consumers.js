// CONSUMERS_MODULE of the worker that the Airflow tests start: no Kafka consumers. That worker polls a task queue of
// its own that lives only as long as the test session, so a consumer workflow it started would be left orphaned there.
module.exports = { consumers: [] };
