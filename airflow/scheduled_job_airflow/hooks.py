"""The Temporal connection: an Airflow connection (default ``temporal_default``) with the environment as fallback."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

from ._compat import AirflowNotFoundException, BaseHook

DEFAULT_ADDRESS = "127.0.0.1:7233"
DEFAULT_NAMESPACE = "default"
DEFAULT_TASK_QUEUE = "scheduled-job"


@dataclass(frozen=True)
class TemporalConnParams:
    address: str = DEFAULT_ADDRESS
    namespace: str = DEFAULT_NAMESPACE
    task_queue: str = DEFAULT_TASK_QUEUE
    tls: bool = False
    tls_cert_path: str | None = None
    tls_key_path: str | None = None
    tls_ca_path: str | None = None
    api_key: str | None = None

    def redacted(self) -> dict[str, Any]:
        d = asdict(self)
        if d["api_key"]:
            d["api_key"] = "***"
        return d


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def params_from(conn: Any | None, env: dict[str, str] | None = None) -> TemporalConnParams:
    """Connection fields first, then the same environment variables the TypeScript side reads, then the defaults.

    Connection: host and port (``host:port``); extra ``namespace``, ``task_queue``, ``tls``, ``tls_cert_path``,
    ``tls_key_path``, ``tls_ca_path``, ``api_key`` (or the password). Environment: ``TEMPORAL_ADDRESS``,
    ``TEMPORAL_NAMESPACE``, ``TEMPORAL_TASK_QUEUE``, ``TEMPORAL_TLS``, ``TEMPORAL_TLS_CERT_PATH``,
    ``TEMPORAL_TLS_KEY_PATH``, ``TEMPORAL_TLS_CA_PATH``, ``TEMPORAL_API_KEY``.
    """
    env = dict(os.environ if env is None else env)
    extra: dict[str, Any] = {}
    address = None
    api_key = None
    if conn is not None:
        extra = dict(conn.extra_dejson or {})
        if conn.host:
            address = f"{conn.host}:{conn.port}" if conn.port else conn.host
        api_key = extra.get("api_key") or conn.password or None

    def pick(extra_key: str, env_key: str, default: Any = None) -> Any:
        value = extra.get(extra_key)
        if value is None or value == "":
            value = env.get(env_key) or default
        return value

    tls_cert_path = pick("tls_cert_path", "TEMPORAL_TLS_CERT_PATH")
    tls_key_path = pick("tls_key_path", "TEMPORAL_TLS_KEY_PATH")
    tls_ca_path = pick("tls_ca_path", "TEMPORAL_TLS_CA_PATH")
    api_key = api_key or env.get("TEMPORAL_API_KEY") or None
    tls_value = pick("tls", "TEMPORAL_TLS", "")
    return TemporalConnParams(
        address=address or env.get("TEMPORAL_ADDRESS") or DEFAULT_ADDRESS,
        namespace=pick("namespace", "TEMPORAL_NAMESPACE", DEFAULT_NAMESPACE),
        task_queue=pick("task_queue", "TEMPORAL_TASK_QUEUE", DEFAULT_TASK_QUEUE),
        tls=_truthy(tls_value) or bool(tls_cert_path) or bool(api_key),
        tls_cert_path=tls_cert_path,
        tls_key_path=tls_key_path,
        tls_ca_path=tls_ca_path,
        api_key=api_key,
    )


async def connect(params: TemporalConnParams):
    """A Temporal client for these parameters."""
    from temporalio.client import Client
    from temporalio.service import TLSConfig

    tls: bool | TLSConfig = params.tls
    if params.tls and (params.tls_cert_path or params.tls_ca_path):

        def read(path: str | None) -> bytes | None:
            if not path:
                return None
            with open(path, "rb") as f:
                return f.read()

        tls = TLSConfig(
            client_cert=read(params.tls_cert_path),
            client_private_key=read(params.tls_key_path),
            server_root_ca_cert=read(params.tls_ca_path),
        )
    return await Client.connect(params.address, namespace=params.namespace, tls=tls, api_key=params.api_key)


class TemporalHook(BaseHook):
    """Reads the Temporal connection; a missing connection falls back to the environment (``TEMPORAL_ADDRESS`` ...)."""

    conn_name_attr = "temporal_conn_id"
    default_conn_name = "temporal_default"
    conn_type = "temporal"
    hook_name = "Temporal"

    def __init__(self, temporal_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.temporal_conn_id = temporal_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden-fields": ["schema", "login"],
            "relabeling": {"password": "API key"},
            "placeholders": {
                "host": "127.0.0.1",
                "port": "7233",
                "extra": '{"namespace": "default", "task_queue": "scheduled-job", "tls": false}',
            },
        }

    def get_conn_params(self) -> TemporalConnParams:
        try:
            conn = self.get_connection(self.temporal_conn_id)
        except AirflowNotFoundException:
            self.log.info("connection %s is not defined; using the environment", self.temporal_conn_id)
            conn = None
        return params_from(conn)

    async def aget_conn_params(self) -> TemporalConnParams:
        try:
            conn = await self.aget_connection(self.temporal_conn_id)
        except AirflowNotFoundException:
            self.log.info("connection %s is not defined; using the environment", self.temporal_conn_id)
            conn = None
        return params_from(conn)

    def get_conn(self) -> TemporalConnParams:
        return self.get_conn_params()

    async def get_async_client(self):
        return await connect(await self.aget_conn_params())
