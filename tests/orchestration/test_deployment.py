"""The production deployment (docker-compose.yaml, Dockerfile, .env.example) checked without Docker.

No Docker engine runs here, so the things that break a CeleryExecutor deployment are checked
statically: the compose file against the Compose Specification schema; every Airflow service on
the same image, executor, metadata DB, execution API and secrets; the worker's queues and the
init's pools against what the DAG's tasks use (parsed with DagBag); every path the tasks read or
write mounted where tasks run; no secret written in the files.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path, PurePosixPath

import pytest
import yaml

from fieldrecon import settings

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
SCHEMA = Path(__file__).resolve().parents[2].parent / "shared" / "vendor" / "compose-spec.json"
DAGS = str(settings.PROJECT_ROOT / "dags")
DAG_ID = "fieldrecon_nightly"

REQUIRED_SERVICES = {"postgres", "warehouse", "redis", "airflow-apiserver", "airflow-scheduler",
                     "airflow-dag-processor", "airflow-triggerer", "airflow-worker", "airflow-init"}
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
# settings every Airflow component must agree on
SHARED_ENV = ["AIRFLOW__CORE__EXECUTOR", "AIRFLOW__CORE__AUTH_MANAGER", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
              "AIRFLOW__CELERY__BROKER_URL", "AIRFLOW__CELERY__RESULT_BACKEND",
              "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY",
              "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW_CONN_WAREHOUSE"]
SECRET_ENV = ["AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__CORE__FERNET_KEY",
              "AIRFLOW_CONN_WAREHOUSE"]
READ_ONLY_OK = {"FIELDRECON_LANDING"}

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, ${VAR:+alt} (`$${X}` is an escape)
INTERP = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")
SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|FERNET|TOKEN|CREDENTIAL|_AUTH$|_KEY$|^KEY$|PRIVATE)", re.I)
URL_USERINFO = re.compile(r"\b[a-z][a-z0-9+.-]*://([^:/@\s]*):([^@\s/]*)@", re.I)
SECRET_FLAG = re.compile(r"(?:--password|--requirepass|--secret|--token|-a)\s*[= ]\s*(\S+)", re.I)
PLACEHOLDERS = {"", "CHANGE_ME"}


# ---------------------------------------------------------------- helpers


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def env_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def command_text(cmd) -> str:
    if cmd is None:
        return ""
    return cmd if isinstance(cmd, str) else " ".join(str(c) for c in cmd)


def resolve_defaults(value: str) -> str:
    """Interpolate as compose would with an empty environment: defaults taken, `$$` -> `$`,
    required variables left as `<VAR>`."""
    def sub(m):
        name, op, arg = m.groups()
        if op in (":-", "-"):
            return arg
        if op in (":+", "+"):
            return ""
        return f"<{name}>"

    return INTERP.sub(sub, value).replace("$$", "$")


def strip_required(value: str) -> str:
    """The text left when every required interpolation (`${VAR}`, `${VAR:?msg}`) is removed;
    defaults are kept as literal text (a default is written in the file)."""
    def sub(m):
        _, op, arg = m.groups()
        if op in (":-", "-"):
            return arg
        return ""

    return INTERP.sub(sub, value)


def is_required_reference(value: str) -> bool:
    """The whole value is one or more `${VAR}` / `${VAR:?msg}` references and nothing else."""
    value = value.strip()
    refs = INTERP.findall(value)
    return bool(refs) and strip_required(value).strip() == "" and all(op in ("", ":?", "?") for _, op, _ in refs)


def airflow_services(c: dict) -> dict[str, dict]:
    common = c["x-airflow-common"]
    return {name: s for name, s in c["services"].items()
            if name.startswith("airflow-") or s.get("image") == common["image"]}


def task_runners(c: dict) -> dict[str, dict]:
    """Services that execute task code: Celery workers (and a standalone, if one is ever added)."""
    return {name: s for name, s in airflow_services(c).items()
            if re.search(r"\bcelery\s+worker\b|\bstandalone\b", command_text(s.get("command")))}


def mounts(service: dict) -> list[tuple[str, str, bool]]:
    """(source, container target, read_only) of a service's volumes, interpolated with defaults."""
    out = []
    for v in service.get("volumes") or []:
        if isinstance(v, dict):
            out.append((str(v.get("source", "")), str(v["target"]), bool(v.get("read_only"))))
            continue
        parts = resolve_defaults(v).split(":")
        if len(parts) == 1:
            out.append(("", parts[0], False))
        else:
            mode = parts[2] if len(parts) > 2 else ""
            out.append((parts[0], parts[1], "ro" in mode.split(",")))
    return out


def mount_for(service: dict, path: str) -> tuple[str, str, bool] | None:
    """The (innermost) volume a container path lives on, or None if it is in the container's own layer."""
    p = PurePosixPath(path)
    best = None
    for source, target, ro in mounts(service):
        t = PurePosixPath(target)
        if p == t or t in p.parents:
            if best is None or len(t.parts) > len(PurePosixPath(best[1]).parts):
                best = (source, target, ro)
    return best


def worker_queues(service: dict) -> set[str]:
    args = shlex.split(command_text(service.get("command")))
    for i, a in enumerate(args):
        if a in ("-q", "--queues") and i + 1 < len(args):
            return set(resolve_defaults(args[i + 1]).split(","))
        if a.startswith("--queues="):
            return set(resolve_defaults(a.split("=", 1)[1]).split(","))
    return {env_of(service).get("AIRFLOW__OPERATORS__DEFAULT_QUEUE") or "default"}


def init_pools(c: dict) -> dict[str, str]:
    text = command_text(c["services"]["airflow-init"].get("command"))
    found = {}
    for m in re.finditer(r"airflow\s+pools\s+set\s+(\"[^\"]+\"|'[^']+'|\S+)\s+(\S+)", text):
        found[m.group(1).strip("\"'")] = resolve_defaults(m.group(2)).strip("\"'")
    return found


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        k, v = line.split("=", 1)
        values[k.strip()] = v.strip().strip("\"'")
    return values


def walk_strings(node, key: str = ""):
    """(key, string) for every scalar in a parsed YAML tree (list items inherit their parent key)."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield str(k), str(k)
            yield from walk_strings(v, str(k))
    elif isinstance(node, list):
        for v in node:
            yield from walk_strings(v, key)
    elif node is not None:
        yield key, str(node)


def secret_findings(tree) -> list[str]:
    """Everything in a parsed compose tree that writes a secret instead of referencing one."""
    problems = []
    for key, value in walk_strings(tree):
        # 1. a secret-named setting must be a pure `${VAR}` / `${VAR:?msg}` reference (or empty)
        if SECRET_NAME.search(key) and value != key and value.strip() and not is_required_reference(value):
            problems.append(f"{key}: literal or defaulted secret {value!r}")
        # 2. a secret-named variable must not carry a written default
        for name, op, arg in INTERP.findall(value):
            if SECRET_NAME.search(name) and op in (":-", "-") and arg:
                problems.append(f"{key}: ${{{name}}} has a written default {arg!r}")
        literal = strip_required(value)
        # 3. passwords inside URLs (postgresql://u:p@h, redis://:p@h)
        for m in URL_USERINFO.finditer(literal):
            if m.group(2):
                problems.append(f"{key}: password written in URL {m.group(0)!r}")
        # 4. secrets on command lines
        for m in SECRET_FLAG.finditer(literal):
            if m.group(1) and not m.group(1).startswith("$"):
                problems.append(f"{key}: secret on a command line {m.group(0)!r}")
        # 5. anything that looks like a generated key or token
        for token in re.findall(r"[A-Za-z0-9+/=_-]{32,}", literal):
            if not token.startswith("/") and re.search(r"\d", token) and re.search(r"[A-Za-z]", token):
                problems.append(f"{key}: key-like literal {token[:12]}...")
    return problems


@pytest.fixture(scope="module")
def dag(tmp_path_factory):
    import os

    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow_home")))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=DAGS)
    assert bag.import_errors == {}
    return bag.dags[DAG_ID]


# ---------------------------------------------------------------- the compose file


def test_compose_validates_against_the_compose_spec():
    import jsonschema

    assert SCHEMA.exists(), f"vendored Compose Specification schema missing: {SCHEMA}"
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(compose()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)


def test_services_of_the_celery_deployment_exist():
    c = compose()
    assert REQUIRED_SERVICES <= set(c["services"]), REQUIRED_SERVICES - set(c["services"])
    assert "x-airflow-common" in c
    # the warehouse is a server of its own with its own user and database
    wh, meta = env_of(c["services"]["warehouse"]), env_of(c["services"]["postgres"])
    assert c["services"]["warehouse"]["image"].split(":")[0] == "postgres"
    assert int(c["services"]["warehouse"]["image"].split(":")[1].split("-")[0]) >= 16
    assert resolve_defaults(wh["POSTGRES_USER"]) != resolve_defaults(meta["POSTGRES_USER"])
    assert resolve_defaults(wh["POSTGRES_DB"]) != resolve_defaults(meta["POSTGRES_DB"])


def test_every_airflow_service_shares_image_executor_database_api_and_secrets():
    c = compose()
    common = c["x-airflow-common"]
    services = airflow_services(c)
    assert REQUIRED_SERVICES - {"postgres", "warehouse", "redis"} <= set(services)
    common_env = env_of(common)
    for name, s in services.items():
        assert s.get("image") == common["image"], name
        assert s.get("build") == common.get("build"), name
        env = env_of(s)
        for key in SHARED_ENV:
            assert env.get(key), f"{name} lacks {key}"
            assert env[key] == common_env[key], f"{name}: {key} differs from x-airflow-common"
    assert common_env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert common_env["AIRFLOW__CORE__AUTH_MANAGER"] == FAB_AUTH_MANAGER
    for key in SECRET_ENV:
        assert is_required_reference(common_env[key]), f"{key} must come from .env as ${{VAR}}: {common_env[key]!r}"


def test_execution_api_url_points_at_the_api_server():
    c = compose()
    url = env_of(c["x-airflow-common"])["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]
    m = re.fullmatch(r"http://([\w-]+):(\d+)/execution/", url)
    assert m, url
    host, port = m.groups()
    assert host in c["services"] and "api-server" in command_text(c["services"][host].get("command"))
    container_ports = {resolve_defaults(str(p)).split(":")[-1] for p in c["services"][host].get("ports", [])}
    assert port in container_ports, (port, container_ports)


def test_metadata_db_broker_and_result_backend_match_their_services():
    c = compose()
    env = env_of(c["x-airflow-common"])
    meta = env_of(c["services"]["postgres"])
    for key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__RESULT_BACKEND"):
        m = re.fullmatch(r"[\w+]+://([^:]+):(\$\{[^}]+\})@([\w-]+)(?::\d+)?/(\w+)", env[key])
        assert m, f"{key}: {env[key]!r}"
        user, password, host, db = m.groups()
        assert host == "postgres" and user == meta["POSTGRES_USER"] and db == meta["POSTGRES_DB"], key
        assert INTERP.match(password).group(1) == INTERP.match(meta["POSTGRES_PASSWORD"]).group(1), key
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    m = re.fullmatch(r"redis://:(\$\{[^}]+\})@redis:6379/\d+", env["AIRFLOW__CELERY__BROKER_URL"])
    assert m, env["AIRFLOW__CELERY__BROKER_URL"]
    redis_cmd = command_text(c["services"]["redis"].get("command"))
    assert "--requirepass" in redis_cmd and INTERP.match(m.group(1)).group(1) in redis_cmd


def test_worker_listens_on_the_queues_the_dag_uses_and_can_be_scaled(dag):
    from airflow.configuration import conf

    c = compose()
    local_default = conf.get("operators", "default_queue")
    deployed_default = env_of(c["x-airflow-common"]).get("AIRFLOW__OPERATORS__DEFAULT_QUEUE") or "default"
    used = {deployed_default if t.queue == local_default else t.queue for t in dag.tasks}
    workers = task_runners(c)
    assert "airflow-worker" in workers
    listened = set().union(*(worker_queues(s) for s in workers.values()))
    assert used <= listened, f"no worker listens on {used - listened}"
    w = c["services"]["airflow-worker"]
    assert "container_name" not in w and "hostname" not in w, "a fixed name prevents --scale airflow-worker=N"
    for p in w.get("ports", []):
        assert len(resolve_defaults(str(p)).split(":")) == 1, f"host port {p} prevents --scale"


def test_init_migrates_creates_admin_clerk_role_and_the_dags_pools(dag):
    c = compose()
    init = c["services"]["airflow-init"]
    text = command_text(init.get("command"))
    env = env_of(init)
    assert env.get("_AIRFLOW_DB_MIGRATE") == "true" or "airflow db migrate" in text
    assert (env.get("_AIRFLOW_WWW_USER_CREATE") == "true" and is_required_reference(env["_AIRFLOW_WWW_USER_PASSWORD"])
            ) or "airflow users create" in text
    assert re.search(r"airflow\s+roles\s+create\s+(\S+\s+)*clerk\b", text), "no FAB `clerk` role"
    created = init_pools(c)
    for pool in {t.pool for t in dag.tasks} - {"default_pool"}:
        assert pool in created, f"the DAG uses pool {pool!r}; airflow-init does not create it"
        need = max(t.pool_slots for t in dag.tasks if t.pool == pool)
        assert created[pool].isdigit() and int(created[pool]) >= need, (pool, created[pool], need)


ROLE_SERVICES = {settings.WORKER: task_runners, settings.API: lambda c: {"airflow-apiserver": c["services"]["airflow-apiserver"]}}
README = ROOT / "README.md"
RUNBOOK = ROOT / "docs" / "runbook.md"


def setting_specs() -> list[tuple[str, dict, object]]:
    """(environment name, metadata, default) of every setting in fieldrecon.settings."""
    return [(settings.env_name(n), f.json_schema_extra, f.default) for n, f in settings.Settings.model_fields.items()]


def test_every_setting_a_service_needs_is_set_in_that_service():
    c = compose()
    problems = []
    for var, meta, _ in setting_specs():
        if not meta["deploy"]:
            continue
        for role in meta["used_by"]:
            for name, s in ROLE_SERVICES[role](c).items():
                if var not in env_of(s):
                    problems.append(f"{name} ({role}) does not set {var}")
    assert not problems, "\n".join(problems)
    env = env_of(c["x-airflow-common"])
    assert env["FIELDRECON_PRODUCTION"] == "true", "the deployment runs in production mode (no embedded warehouse)"
    assert is_required_reference(env["FIELDRECON_CLERK_REGIONS"]), "clerk regions come from .env"


def test_every_path_the_services_use_is_on_a_volume_they_all_share():
    c = compose()
    common = c["x-airflow-common"]
    path_settings = [(var, meta) for var, meta, _ in setting_specs() if meta["path"]]
    assert {"FIELDRECON_LANDING", "FIELDRECON_ARCHIVE", "FIELDRECON_OUTPUT", "FIELDRECON_PACKS",
            "FIELDRECON_REPORTS"} <= {v for v, _ in path_settings}
    checked = 0
    for var, meta in path_settings:
        users = {n: s for role in meta["used_by"] for n, s in ROLE_SERVICES[role](c).items()}
        for name, s in users.items():
            senv = env_of(s)
            path = resolve_defaults(senv[var])
            if "://" in path and not path.startswith("file://"):
                continue  # object storage: nothing to mount
            path = path.removeprefix("file://")
            assert path.startswith("/"), (name, var, path)
            m = mount_for(s, path)
            assert m, f"{name}: {var}={path} is not on a mounted volume (it would stay in the container)"
            assert m[0], f"{name}: {var} is on an anonymous volume (not shared between services)"
            if meta["path"] == "write" and var not in READ_ONLY_OK:
                assert not m[2], f"{name}: {var} is written but mounted read-only"
            # one folder for everyone: the same source as in x-airflow-common
            assert m == mount_for(common, path), (name, var)
            checked += 1
    assert checked >= 8
    # the download page (api-server) reads what the workers write
    api = c["services"]["airflow-apiserver"]
    workers = task_runners(c)
    for var in ("FIELDRECON_OUTPUT", "FIELDRECON_PACKS", "FIELDRECON_REPORTS"):
        path = resolve_defaults(env_of(api)[var])
        for w in workers.values():
            assert mount_for(api, path)[0] == mount_for(w, resolve_defaults(env_of(w)[var]))[0], var


def test_the_static_path_check_catches_an_unmounted_reports_folder():
    c = compose()
    broken = dict(c["x-airflow-common"])
    broken["volumes"] = [v for v in broken["volumes"] if "/data/fieldrecon/reports" not in v]
    assert mount_for(broken, "/data/fieldrecon/reports") is None
    assert mount_for(c["x-airflow-common"], "/data/fieldrecon/reports")[0]


def _default_text(default) -> str:
    if default is None:
        return ""
    if isinstance(default, Path) and default.is_relative_to(settings.PROJECT_ROOT):
        return default.relative_to(settings.PROJECT_ROOT).as_posix()
    return str(default).lower() if isinstance(default, bool) else str(default)


def _readme_table() -> dict[str, str]:
    """`FIELDRECON_X` -> the row of the README's configuration table."""
    rows = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\|\s*`(FIELDRECON_\w+)`\s*\|(.*)", line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def test_readme_configuration_table_lists_every_setting_with_its_default():
    rows = _readme_table()
    names = {var for var, _, _ in setting_specs()}
    assert set(rows) == names, f"README lacks {sorted(names - set(rows))}; lists unknown {sorted(set(rows) - names)}"
    for var, _, default in setting_specs():
        text = _default_text(default)
        if text:
            assert text in rows[var], f"README: {var} default should read {text!r}: {rows[var]}"


def _variables_in(text: str) -> set[str]:
    return set(re.findall(r"\b(FIELDRECON_[A-Z_]+[A-Z])\b", text))


def test_env_template_runbook_and_readme_name_only_real_settings():
    names = {var for var, _, _ in setting_specs()}
    compose_vars = {n for n, _, _ in INTERP.findall(COMPOSE.read_text(encoding="utf-8"))}  # host-side (.env) names
    for doc in (ENV_EXAMPLE, RUNBOOK, README, ROOT / "docs" / "scaling.md"):
        unknown = _variables_in(doc.read_text(encoding="utf-8")) - names - compose_vars
        assert not unknown, f"{doc.name} names {sorted(unknown)}: neither a setting nor a compose variable"
    # every host-side FIELDRECON_ variable compose reads is in the template
    assert {v for v in compose_vars if v.startswith("FIELDRECON_")} <= set(env_example())


def test_project_code_dags_plugins_and_logs_are_mounted_where_the_image_expects_them():
    c = compose()
    docker = DOCKERFILE.read_text(encoding="utf-8")
    m = re.search(r"pip install[^\n]*--no-deps -e (\S+)", docker)
    assert m, "the Dockerfile installs the project editable (PROJECT_ROOT = its folder)"
    project_root = m.group(1)
    env = env_of(c["x-airflow-common"])
    dags_folder = env.get("AIRFLOW__CORE__DAGS_FOLDER", "/opt/airflow/dags")
    for name, s in airflow_services(c).items():
        targets = {t: src for src, t, _ in mounts(s)}
        for target, local in ((dags_folder, "dags"), ("/opt/airflow/plugins", "plugins"),
                              (f"{project_root}/include", "include"), (f"{project_root}/src", "src")):
            assert target in targets, f"{name} does not mount {target}"
            assert targets[target].rstrip("/").endswith(local), (name, target, targets[target])
        assert "/opt/airflow/logs" in targets, name


def test_no_secret_is_written_in_the_compose_file():
    c = compose()
    problems = secret_findings(c)
    assert not problems, "\n".join(problems)
    # every variable the file requires is in the checked-in template
    text = COMPOSE.read_text(encoding="utf-8")
    required = {n for n, op, _ in INTERP.findall(text) if op in ("", ":?", "?")}
    missing = required - set(env_example())
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_the_secret_scan_catches_written_secrets():
    bad = {
        "services": {"x": {
            "environment": {"POSTGRES_PASSWORD": "airflow",
                            "AIRFLOW__CORE__FERNET_KEY": "${FERNET:-Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWo=}",
                            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql+psycopg2://airflow:hunter2@postgres/airflow",
                            "SOMETHING": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
            "command": "redis-server --requirepass hunter2"}},
    }
    found = "\n".join(secret_findings(bad))
    for needle in ("POSTGRES_PASSWORD", "FERNET_KEY", "password written in URL", "command line", "key-like literal"):
        assert needle in found, (needle, found)
    good = {"services": {"x": {"environment": {"POSTGRES_PASSWORD": "${P:?set P}", "REDISCLI_AUTH": "${R}",
                                               "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql://a:${P}@h/d"}}}}
    assert secret_findings(good) == []


def test_env_template_holds_placeholders_only():
    values = env_example()
    for key, value in values.items():
        if SECRET_NAME.search(key):
            assert value in PLACEHOLDERS, f".env.example {key} must be a placeholder, not {value!r}"
        for m in URL_USERINFO.finditer(value):
            assert m.group(2) in PLACEHOLDERS or INTERP.fullmatch(m.group(2)), f".env.example {key}: {value!r}"
    assert values["AIRFLOW_CONN_WAREHOUSE"], "the warehouse connection is part of the template"
    host = re.search(r"@([\w.-]+)", values["AIRFLOW_CONN_WAREHOUSE"]).group(1)
    assert host in compose()["services"] or "." in host


# ---------------------------------------------------------------- the image


def _pin(name: str) -> str:
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if line.lower().startswith(name.lower() + "=="):
            return line.split("==", 1)[1].strip()
    raise KeyError(name)


def test_dockerfile_extends_the_pinned_airflow_image_without_reinstalling_airflow():
    text = DOCKERFILE.read_text(encoding="utf-8")
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", text, re.M))
    froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert len(froms) == 1
    image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], froms[0])
    assert image.startswith("apache/airflow:"), image
    assert image.split(":")[1].split("-")[0] == _pin("apache-airflow"), "image and requirements.txt disagree on Airflow"
    assert re.search(r"grep -v -E '\^\(apache-airflow\|apache-airflow-core\|apache-airflow-task-sdk\)=='", text)
    assert '"apache-airflow==${AIRFLOW_VERSION}"' in text
    for provider in ("fab", "celery", "sftp", "amazon", "smtp", "postgres"):
        _pin(f"apache-airflow-providers-{provider}")  # runtime pins the image installs
    for dev in ("pytest", "ruff", "playwright", "moto", "aiosmtpd"):
        with pytest.raises(KeyError):
            _pin(dev)  # development tools live in requirements-dev.txt, not in the image
    assert not re.search(r"^(COPY|ADD)\s.*\b(demo|requirements-dev)", text, re.M), "no dev tools or demo in the image"
    code = re.sub(r"#.*", "", text)
    assert "apt-get install" not in code and "pango" not in code.lower(), "no system packages the code does not use"
    assert re.findall(r"^USER\s+(\S+)", text, re.M)[-1] == "airflow", "the image must end as the airflow user"
    assert compose()["x-airflow-common"]["build"]["context"] == "."


# Known breaks in files this deployment does not own: each test is an expected failure while the
# break is there (strict: it cannot pass by accident) and an ordinary check once it is fixed.


def _dateutil_major() -> int:
    return int(_pin("python-dateutil").split(".")[0])


@pytest.mark.xfail(_dateutil_major() >= 3, strict=True,
                   reason="requirements.txt pins python-dateutil>=3; apache-airflow-providers-fab 3.10.2 needs "
                   "flask-appbuilder 5.2.2, which requires python-dateutil<3: `docker compose build` fails "
                   "(ResolutionImpossible) until the pin is python-dateutil==2.9.0.post0")
def test_requirements_resolve_with_the_fab_provider_in_the_image():
    assert _dateutil_major() < 3, "flask-appbuilder 5.2.2 (FAB provider 3.10.2) requires python-dateutil<3"


@pytest.mark.xfail(not (ROOT / ".dockerignore").exists(), strict=True,
                   reason="no .dockerignore: `docker compose build` would send .venv, .git, .env and var/ "
                   "(the embedded server's live data directory, extracts, outputs) as the build context")
def test_build_context_leaves_out_local_state():
    lines = {ln.strip().rstrip("/") for ln in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()}
    for entry in (".venv", "var", ".git", ".env"):
        assert entry in lines, f".dockerignore lacks {entry}"


@pytest.mark.xfail(".env" not in {ln.strip() for ln in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()},
                   strict=True, reason=".gitignore does not list .env, the file with the deployment's secrets")
def test_env_file_is_git_ignored():
    assert ".env" in {ln.strip() for ln in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()}
