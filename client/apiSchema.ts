/**
 * The HTTP API's types, generated from its OpenAPI document by `npm run api-types` (scripts/apiTypes.ts): do not edit.
 * test/integration/apiTypes.test.ts fails when they differ from what the API serves.
 */

export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** liveness */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description the API process serves */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {boolean} */
                            ok: true;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** readiness: Postgres and Temporal answer */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description ready */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {boolean} */
                            ready: true;
                            dependencies: string[];
                        };
                    };
                };
                /** @description a dependency does not answer */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {boolean} */
                            ready: false;
                            /** @description each unreachable dependency and why */
                            unreachable: {
                                [key: string]: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Prometheus text format */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/plain": string;
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jobs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** the job definitions, with how many of their runs run and wait now */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description every job this API can start */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            jobs: components["schemas"]["Job"][];
                        };
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jobs/example_steps/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** recent runs of example_steps, newest first */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description newest first */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            runs: components["schemas"]["Run"][];
                        };
                    };
                };
                /** @description the request does not fit its schema: the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /**
         * start a run of example_steps
         * @description Runs a number of heartbeating steps in sequence; the framework on its own, without any data.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": components["schemas"]["example_steps.triggerInput"] | null;
                };
            };
            responses: {
                /** @description the run started */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Started"];
                    };
                };
                /** @description the request does not fit: malformed JSON, or the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description sent with the session cookie but without its CSRF token */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description a run holds the lock: attach to it or wait */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AlreadyRunning"];
                    };
                };
                /** @description the body is over 64 KiB */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the body is not JSON: send Content-Type: application/json */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jobs/example_flaky/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** recent runs of example_flaky, newest first */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description newest first */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            runs: components["schemas"]["Run"][];
                        };
                    };
                };
                /** @description the request does not fit its schema: the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /**
         * start a run of example_flaky
         * @description Fails its first `failAttempts` attempts, then succeeds: whole-job retries made visible.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": components["schemas"]["example_flaky.triggerInput"] | null;
                };
            };
            responses: {
                /** @description the run started */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Started"];
                    };
                };
                /** @description the request does not fit: malformed JSON, or the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description sent with the session cookie but without its CSRF token */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description a run holds the lock: attach to it or wait */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AlreadyRunning"];
                    };
                };
                /** @description the body is over 64 KiB */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the body is not JSON: send Content-Type: application/json */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jobs/ingest_notification_views/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** recent runs of ingest_notification_views, newest first */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description newest first */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            runs: components["schemas"]["Run"][];
                        };
                    };
                };
                /** @description the request does not fit its schema: the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /**
         * start a run of ingest_notification_views
         * @description Loads one day of notification-view logs from s3://$S3_BUCKET/notification-logs/day=YYYY-MM-DD/ into notification_views, quarantining bad lines in ingest_rejects.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["ingest_notification_views.triggerInput"];
                };
            };
            responses: {
                /** @description the run started */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Started"];
                    };
                };
                /** @description the request does not fit: malformed JSON, or the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description sent with the session cookie but without its CSRF token */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description a run holds the lock: attach to it or wait */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AlreadyRunning"];
                    };
                };
                /** @description the body is over 64 KiB */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the body is not JSON: send Content-Type: application/json */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jobs/retention/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** recent runs of retention, newest first */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description newest first */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            runs: components["schemas"]["Run"][];
                        };
                    };
                };
                /** @description the request does not fit its schema: the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /**
         * start a run of retention
         * @description Deletes old rows in batches: finished job_runs (never the newest succeeded run of a workflow ID), ingest_rejects, kafka_dead_letters, stale ingest_objects checkpoints and schedule_ticks.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": components["schemas"]["retention.triggerInput"] | null;
                };
            };
            responses: {
                /** @description the run started */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Started"];
                    };
                };
                /** @description the request does not fit: malformed JSON, or the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description sent with the session cookie but without its CSRF token */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description a run holds the lock: attach to it or wait */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AlreadyRunning"];
                    };
                };
                /** @description the body is over 64 KiB */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the body is not JSON: send Content-Type: application/json */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jobs/replay_ingest_rejects/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** recent runs of replay_ingest_rejects, newest first */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description newest first */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            runs: components["schemas"]["Run"][];
                        };
                    };
                };
                /** @description the request does not fit its schema: the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /**
         * start a run of replay_ingest_rejects
         * @description Re-parses one day's quarantined lines (ingest_rejects) with the current parser: lines that now pass are written to notification_views (idempotently) and leave quarantine in the same transaction. Optional `reason`: only rejects whose reason starts with it.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["replay_ingest_rejects.triggerInput"];
                };
            };
            responses: {
                /** @description the run started */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Started"];
                    };
                };
                /** @description the request does not fit: malformed JSON, or the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description sent with the session cookie but without its CSRF token */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description a run holds the lock: attach to it or wait */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AlreadyRunning"];
                    };
                };
                /** @description the body is over 64 KiB */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the body is not JSON: send Content-Type: application/json */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jobs/replay_dead_letters/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** recent runs of replay_dead_letters, newest first */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description newest first */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            runs: components["schemas"]["Run"][];
                        };
                    };
                };
                /** @description the request does not fit its schema: the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /**
         * start a run of replay_dead_letters
         * @description Re-decodes one consumer's dead letters (kafka_dead_letters) with its current schema and decoder: messages that now decode are written by its batch writer (idempotently) and leave the table in the same transaction. Optional `topic`, `reason` (a prefix), and `reasonClass` (a group of `scheduled-job consumers dead-letters`: the reason with its numbers as <n>).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["replay_dead_letters.triggerInput"];
                };
            };
            responses: {
                /** @description the run started */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Started"];
                    };
                };
                /** @description the request does not fit: malformed JSON, or the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description sent with the session cookie but without its CSRF token */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description a run holds the lock: attach to it or wait */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AlreadyRunning"];
                    };
                };
                /** @description the body is over 64 KiB */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the body is not JSON: send Content-Type: application/json */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jobs/{job}/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** a job's recent runs, newest first */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                };
                header?: never;
                path: {
                    /** @description a job name, see GET /jobs */
                    job: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description newest first */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            runs: components["schemas"]["Run"][];
                        };
                    };
                };
                /** @description the request does not fit its schema: the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description unknown job or run */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /** start a run of a job */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description a job name, see GET /jobs */
                    job: string;
                };
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        args?: {
                            [key: string]: unknown;
                        };
                    } | null;
                };
            };
            responses: {
                /** @description the run started */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Started"];
                    };
                };
                /** @description the request does not fit: malformed JSON, or the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description sent with the session cookie but without its CSRF token */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description unknown job or run */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description a run holds the lock: attach to it or wait */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AlreadyRunning"];
                    };
                };
                /** @description the body is over 64 KiB */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the body is not JSON: send Content-Type: application/json */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jobs/{job}/runs/{runId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** a run's status, following whole-job retries to the latest attempt */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description a job name, see GET /jobs */
                    job: string;
                    /** @description the runId a trigger returned */
                    runId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description the run's status */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Run"];
                    };
                };
                /** @description the request does not fit its schema: the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description unknown job or run */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jobs/{job}/runs/{runId}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** ask a running run to stop */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description a job name, see GET /jobs */
                    job: string;
                    /** @description the runId a trigger returned */
                    runId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description the run was asked to stop */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            runId: string;
                            /** @enum {string} */
                            status: "cancelling";
                        };
                    };
                };
                /** @description the request does not fit: malformed JSON, or the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description sent with the session cookie but without its CSRF token */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description unknown job or run */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the body is over 64 KiB */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the body is not JSON: send Content-Type: application/json */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/schedules": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** each job's schedule: spec, next three fire times, last tick and its outcome, paused or not */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description every declared schedule */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            schedules: components["schemas"]["Schedule"][];
                        };
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/schedules/{job}/ticks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** a job's recent ticks, the latest scheduled first: started, or skipped with the reason */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                };
                header?: never;
                path: {
                    /** @description a job that declares a schedule */
                    job: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description the schedule's recent ticks, newest first */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            ticks: components["schemas"]["Tick"][];
                        };
                    };
                };
                /** @description the request does not fit its schema: the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description unknown job, a job without a schedule, or a schedule no worker has created yet */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/schedules/{job}/pause": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** pause the schedule (a worker start does not resume it) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description a job that declares a schedule */
                    job: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description the schedule's state now */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            job: string;
                            /** @enum {string} */
                            state: "paused" | "active";
                        };
                    };
                };
                /** @description the request does not fit: malformed JSON, or the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description sent with the console's session cookie but without its CSRF token */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description unknown job, a job without a schedule, or a schedule no worker has created yet */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the body is over 64 KiB */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the body is not JSON: send Content-Type: application/json */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/schedules/{job}/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** resume the schedule */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description a job that declares a schedule */
                    job: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description the schedule's state now */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            job: string;
                            /** @enum {string} */
                            state: "paused" | "active";
                        };
                    };
                };
                /** @description the request does not fit: malformed JSON, or the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description sent with the console's session cookie but without its CSRF token */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description unknown job, a job without a schedule, or a schedule no worker has created yet */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the body is over 64 KiB */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the body is not JSON: send Content-Type: application/json */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/schedules/{job}/trigger": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * one tick now: it runs the partition a tick at this moment runs, under the job lock
         * @description The tick's outcome follows in GET /schedules/{job}/ticks (scheduledAt = triggeredAt).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description a job that declares a schedule */
                    job: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description a tick was asked for now */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            job: string;
                            scheduleId: string;
                            triggeredAt: string;
                        };
                    };
                };
                /** @description the request does not fit: malformed JSON, or the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description sent with the console's session cookie but without its CSRF token */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description unknown job, a job without a schedule, or a schedule no worker has created yet */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the body is over 64 KiB */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the body is not JSON: send Content-Type: application/json */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jobs/{job}/backfills": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** start the durable backfill of a range of days, or attach to the one running for it */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description a job that declares a partition */
                    job: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["BackfillRequestInput"];
                };
            };
            responses: {
                /** @description the backfill runs (or was running: attached) */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["BackfillStarted"];
                    };
                };
                /** @description the request does not fit: malformed JSON, or the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description sent with the console's session cookie but without its CSRF token */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description unknown job or backfill */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the body is over 64 KiB */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the body is not JSON: send Content-Type: application/json */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jobs/{job}/backfills/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** a backfill's status and progress */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description a job that declares a partition */
                    job: string;
                    /** @description <from>..<to>, e.g. 2024-05-01..2024-05-31 */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description the backfill's status */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Backfill"];
                    };
                };
                /** @description the request does not fit its schema: the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description unknown job or backfill */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jobs/{job}/backfills/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** stop the backfill: no more days start, and the runs it started are cancelled */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description a job that declares a partition */
                    job: string;
                    /** @description <from>..<to>, e.g. 2024-05-01..2024-05-31 */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description the backfill was asked to stop */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            workflowId: string;
                            /** @enum {string} */
                            status: "cancelling";
                        };
                    };
                };
                /** @description the request does not fit: malformed JSON, or the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description sent with the console's session cookie but without its CSRF token */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description unknown job or backfill */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description it has already ended */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the body is over 64 KiB */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the body is not JSON: send Content-Type: application/json */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jobs/{job}/days": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * each day's latest status (missing where no run exists), attempts, rows, rejects, duration and run ID
         * @description The answer carries its server time in a Server-Timing header.
         */
        get: {
            parameters: {
                query: {
                    /** @description first day, YYYY-MM-DD */
                    from: string;
                    /** @description last day, at most ten years after from */
                    to: string;
                };
                header?: never;
                path: {
                    /** @description a job that declares a partition */
                    job: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description one row per day of the range, in order */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            days: components["schemas"]["Day"][];
                        };
                    };
                };
                /** @description the request does not fit its schema: the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description unknown job or run */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/consumers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** every consumer's state, lag, lead, rate, totals and dead letters, computed now */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description every consumer */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            consumers: components["schemas"]["Consumer"][];
                        };
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres, Temporal or Kafka is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/consumers/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** one consumer, per partition: Kafka's end offset, the committed and applied offsets, lag, totals */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description a consumer name, see GET /consumers */
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description the consumer, computed now */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Consumer"];
                    };
                };
                /** @description the request does not fit its schema: the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description unknown consumer: the message names the known ones */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres, Temporal or Kafka is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/consumers/{name}/pause": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** stop describing and writing: answers once the writes in flight have committed; nothing is written after it until resume */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description a consumer name, see GET /consumers */
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description paused: no write of it commits until resume */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ConsumerPause"];
                    };
                };
                /** @description the request does not fit: malformed JSON, or the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description sent with the console's session cookie but without its CSRF token */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description unknown consumer: the message names the known ones */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the body is over 64 KiB */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the body is not JSON: send Content-Type: application/json */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres, Temporal or Kafka is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/consumers/{name}/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** go on from exactly where the pause stopped */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description a consumer name, see GET /consumers */
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description resumed */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ConsumerPause"];
                    };
                };
                /** @description the request does not fit: malformed JSON, or the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description sent with the console's session cookie but without its CSRF token */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description unknown consumer: the message names the known ones */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the body is over 64 KiB */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the body is not JSON: send Content-Type: application/json */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres, Temporal or Kafka is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/consumers/{name}/dead-letters": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** dead letters grouped by reason (numbers taken out): counts, offsets, a sample, the replay command */
        get: {
            parameters: {
                query?: {
                    /** @description only reasons starting with this */
                    reason?: string;
                    /** @description groups shown, largest first */
                    limit?: number;
                };
                header?: never;
                path: {
                    /** @description a consumer name, see GET /consumers */
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description the groups, largest first */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["DeadLetters"];
                    };
                };
                /** @description the request does not fit its schema: the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description unknown consumer: the message names the known ones */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres, Temporal or Kafka is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/notifications/{id}/views": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** views of one notification on one day */
        get: {
            parameters: {
                query: {
                    /** @description YYYY-MM-DD */
                    day: string;
                };
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description the views (all zero for a notification or day without any) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            notificationId: string;
                            day: string;
                            total: number;
                            /** @description views per platform */
                            byPlatform: {
                                [key: string]: number;
                            };
                            firstViewedAt: string | null;
                            lastViewedAt: string | null;
                        };
                    };
                };
                /** @description the request does not fit its schema: the message names the field */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Postgres or Temporal is unreachable: retry later (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        BackfillRequestInput: {
            /** @description first day, YYYY-MM-DD */
            from: string;
            /** @description last day, YYYY-MM-DD (at most ten years after from) */
            to: string;
            /** @description days in flight at once (default 2) */
            concurrency?: number;
            /** @description run days that already succeeded too */
            force?: boolean;
            /** @description arguments for every day beside the day's own */
            args?: {
                [key: string]: unknown;
            };
            /** @description further runs of a failed day, after the others (default 1) */
            retries?: number;
        };
        /** @description arguments of example_steps */
        "example_steps.triggerInput": {
            args?: {
                steps?: number;
                stepMs?: number;
            };
        };
        /** @description arguments of example_flaky */
        "example_flaky.triggerInput": {
            args?: {
                failAttempts?: number;
                tag?: string;
            };
        };
        /** @description arguments of ingest_notification_views */
        "ingest_notification_views.triggerInput": {
            args: {
                day: string;
                parallelism?: number;
                batchSize?: number;
            };
        };
        /** @description arguments of retention */
        "retention.triggerInput": {
            args?: {
                jobRunsKeepDays?: number;
                ingestRejectsKeepDays?: number;
                deadLettersKeepDays?: number;
                ingestObjectsKeepDays?: number;
                scheduleTicksKeepDays?: number;
                batchSize?: number;
            };
        };
        /** @description arguments of replay_ingest_rejects */
        "replay_ingest_rejects.triggerInput": {
            args: {
                day: string;
                reason?: string;
                batchSize?: number;
            };
        };
        /** @description arguments of replay_dead_letters */
        "replay_dead_letters.triggerInput": {
            args: {
                consumer: string;
                topic?: string;
                reason?: string;
                reasonClass?: string;
                batchSize?: number;
            };
        };
        ConsumerTotals: {
            /** @description messages applied: rows given to the writer plus dead letters (transaction markers are offsets, not messages) */
            messages: number;
            /** @description new rows written */
            rows: number;
            /** @description valid messages whose row was there already (repeats of an event) */
            duplicates: number;
            /** @description messages that did not decode */
            deadLetters: number;
            /** @description offsets Kafka's retention deleted before they were applied (one `retention` dead letter per stretch) */
            lostOffsets: number;
        };
        ConsumerPartition: {
            topic: string;
            partition: number;
            /** @description Kafka's end offset (high watermark): the offset the next message gets */
            endOffset: string;
            /** @description the first offset Kafka still holds */
            startOffset: string;
            /** @description the group's committed offset: what the consumer has handed to the ingest side */
            committed: string | null;
            /** @description Postgres: every offset below it is written (null before the first write) */
            applied: string | null;
            /** @description endOffset - applied: offsets not yet written */
            lag: number;
            /** @description committed - applied: handed over and not yet written */
            lead: number;
            totals: components["schemas"]["ConsumerTotals"];
            /** @description the first offset the totals count, for partitions written before they existed */
            countedFrom: string | null;
            /** @description the ingest workflow's write being retried, and why (detail only) */
            ingestError?: string | null;
        };
        Consumer: {
            name: string;
            topics: string[];
            groupId: string;
            handler: string;
            /**
             * @description stale: the activity hosting the consumer has not reported for staleAfterSeconds
             * @enum {string}
             */
            state: "running" | "paused" | "backing_off" | "stale" | "starting" | "stopped";
            paused: boolean;
            pausedAt: string | null;
            pausedBy: string | null;
            host: {
                hostname: string;
                pid: number;
                attempt: number;
                since: string;
            } | null;
            /** @description when the hosting activity last reported that it is alive */
            reportedAt: string | null;
            reportAgeSeconds: number | null;
            staleAfterSeconds: number;
            lag: number;
            lead: number;
            /** @description the bound of the lead, per partition */
            maxLead: number;
            /** @description over the last minute; null while stale */
            messagesPerSecond: number | null;
            /** @description dead letters in kafka_dead_letters now */
            deadLetters: number;
            /** @description since the consumer was first started */
            totals: components["schemas"]["ConsumerTotals"];
            lastError: string | null;
            lastErrorAt: string | null;
            /** @description partitions whose ingest waits on a dependency it needs to decode (the schema registry), why and since when; empty when none (as the workflow's status says) */
            waiting: {
                topic: string;
                partition: number;
                reason: string;
                since: string;
            }[];
            workflow: {
                workflowId: string;
                runId: string;
                status: string;
                taskQueue: string;
                generation: number | null;
            } | null;
            partitions: components["schemas"]["ConsumerPartition"][];
        };
        ConsumerPause: {
            consumer: string;
            paused: boolean;
            changedAt: string;
            changedBy: string | null;
            /** @description whether the consumer workflow took the signal too; the pause holds in Postgres either way */
            signalled: boolean;
        };
        DeadLetterGroup: {
            /** @description the reason with its numbers as <n>: what the group has in common */
            reasonClass: string;
            count: number;
            firstAt: string;
            lastAt: string;
            partitions: {
                topic: string;
                partition: number;
                count: number;
                firstOffset: string;
                lastOffset: string;
            }[];
            sample: {
                topic: string;
                partition: number;
                offset: string;
                reason: string;
                bytes: number | null;
                /** @description the first 32 bytes */
                hex: string | null;
            };
            /** @description the command that replays the group after a fix; null when the messages are gone */
            replay: string | null;
        };
        DeadLetters: {
            consumer: string;
            total: number;
            groups: components["schemas"]["DeadLetterGroup"][];
            /** @description groups left out by the limit */
            moreGroups: number;
        };
        Error: {
            /** @description a stable code, e.g. invalid_request, unknown_job, unauthorized, unavailable */
            error: string;
            /** @description what is wrong and what to send instead */
            message: string;
            /** @description invalid_args: one entry per field, `args.<field>: <problem>` */
            issues?: string[];
        };
        AlreadyRunning: {
            /** @constant */
            error: "already_running";
            /** @description the lock: the running run's workflow ID */
            workflowId: string;
            /** @description the run that holds the lock (the runId its trigger returned) */
            runId: string;
        };
        BackfillProgress: {
            job: string;
            from: string;
            to: string;
            total: number;
            /** @description days with a final outcome */
            done: number;
            counts: {
                skipped: number;
                succeeded: number;
                failed: number;
                cancelled: number;
                timed_out: number;
            };
            inFlight: {
                day: string;
                runId: string | null;
                /** @description a run it waits for, another starter's */
                attached: boolean;
            }[];
            failed: {
                day: string;
                /** @enum {string} */
                outcome: "skipped" | "succeeded" | "failed" | "cancelled" | "timed_out";
                runId: string | null;
                error: string | null;
            }[];
            /** @description runs started again after a failure */
            retried: number;
            concurrency: number;
            force: boolean;
            startedAt: string;
            /** @description continue-as-new so far */
            continuedRuns: number;
            /** @enum {string} */
            phase: "running" | "continuing as new" | "finished";
        };
        Backfill: {
            /** @description <from>..<to> */
            id: string;
            job: string;
            /** @description backfill/<job>/<from>/<to> */
            workflowId: string;
            runId: string;
            /** @enum {string} */
            status: "running" | "completed" | "failed" | "cancelled" | "terminated" | "timed_out";
            /** @description null while no worker answers */
            progress: components["schemas"]["BackfillProgress"] | null;
            error: string | null;
        };
        BackfillStarted: {
            id: string;
            workflowId: string;
            runId: string;
            /** @description a backfill of the same range was running: this is it, with its own options */
            attached: boolean;
        };
        Day: {
            day: string;
            /**
             * @description missing: no run of the day exists; queued: its run waits for a permit of the job's concurrency limit
             * @enum {string}
             */
            status: "queued" | "running" | "succeeded" | "failed" | "cancelled" | "timed_out" | "missing";
            /** @description attempts recorded for the day, over all its runs */
            attempts: number;
            /** @description the latest run (the runId its trigger returned) */
            runId: string | null;
            workflowId: string | null;
            /** @description rows written by the latest attempt (the definition's keyMetrics.rows) */
            rows: number | null;
            /** @description rejects of the latest attempt (keyMetrics.rejects) */
            rejects: number | null;
            durationMs: number | null;
            startedAt: string | null;
            finishedAt: string | null;
            error: string | null;
        };
        /**
         * @description queued: a run of a job with a concurrency limit waiting for a permit (not started yet); queued and running have not ended
         * @enum {string}
         */
        RunStatus: "queued" | "running" | "succeeded" | "failed" | "cancelled" | "timed_out";
        Run: {
            job: string;
            /** @description the lock: `<job>` or `<job>/<lock values>` */
            workflowId: string;
            /** @description the run its trigger returned; the same across whole-job retries */
            runId: string;
            /** @description the latest attempt's Temporal run */
            latestRunId: string;
            status: components["schemas"]["RunStatus"];
            attempt: number;
            args: {
                [key: string]: unknown;
            };
            startedAt: string;
            finishedAt: string | null;
            error: string | null;
            /** @description e.g. rowsWritten, rejected, durationMs */
            metrics: {
                [key: string]: number;
            };
            /** @description a queued run's place in its queue: 1 runs next; null unless queued */
            queuePosition?: number | null;
            /** @description when a run of a limited job entered its queue; null for a job without a limit */
            queuedAt?: string | null;
        };
        Job: {
            name: string;
            description: string;
            /** @description arguments whose values join the job name in the workflow ID */
            lockKey: string[];
            retries: number;
            defaultArgs: {
                [key: string]: unknown;
            };
            /** @description JSON Schema of the arguments */
            argsSchema: unknown;
            /** @description the argument that partitions the job: days view and backfills */
            partition?: {
                arg: string;
                kind: string;
            } | null;
            /** @description its declared schedule, e.g. `cron 0 11 * * * (UTC)` */
            schedule?: string | null;
            /** @description at most `limit` runs at once; more wait, queued, in the order they came */
            concurrency?: {
                limit: number;
                /** @description with values, the limit holds per group of runs */
                groupBy: string[];
            } | null;
            /** @description its runs running now */
            running?: number;
            /** @description its runs waiting for a permit now */
            queued?: number;
            /** @description the job's alert settings (without the webhook's URL or secret) */
            alerts?: {
                /** @description failed, late, tick_skipped, tick_missed */
                on: string[];
                /** @description where the workers read the URL: `in the definition` or `from $VARIABLE` (never the URL) */
                webhook: string;
                /** @description whether each event carries an HMAC-SHA256 signature */
                signed: boolean;
                /** @description the freshness deadline, e.g. `09:00 Europe/Paris, for the day before` */
                expectedBy: string | null;
            } | null;
        };
        Started: {
            runId: string;
            workflowId: string;
            /**
             * @description queued: the job has a concurrency limit; the run starts once it holds a permit
             * @enum {string}
             */
            status: "running" | "queued";
        };
        Tick: {
            /** @description the tick's nominal time (a trigger's: when it was asked for) */
            scheduledAt: string;
            /**
             * @description buffered: waiting for the run holding the lock (overlap buffer_one)
             * @enum {string}
             */
            outcome: "started" | "skipped" | "buffered";
            /** @description why it was skipped, naming the run that held the lock */
            reason: string | null;
            /** @description the partition (day) it ran */
            partition: string | null;
            /** @description the lock it went for */
            workflowId: string | null;
            /** @description the run it started, or the one holding the lock */
            runId: string | null;
            tickWorkflowId: string;
            recordedAt: string;
        };
        Schedule: {
            job: string;
            /** @description the Temporal Schedule: schedule/<job> */
            scheduleId: string;
            /** @description `cron 0 11 * * * (UTC)` or `every 1h` */
            spec: string;
            timeZone: string;
            /** @enum {string} */
            overlap: "skip" | "buffer_one";
            /** @description the partition a tick runs, from its scheduled time's (-1: the day before) */
            partitionOffset: number | null;
            /** @description false until a worker has created it */
            exists: boolean;
            paused: boolean | null;
            note: string | null;
            /** @description the next three */
            nextFireTimes: string[];
            taskQueue: string | null;
            lastTick: components["schemas"]["Tick"] | null;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
