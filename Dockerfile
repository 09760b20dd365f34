# The fieldrecon image for docker-compose.yaml: the official Airflow image plus the runtime pins of
# requirements.txt (the FAB auth manager, Celery with Redis, the sftp/amazon filesystems for a remote
# landing) and the fieldrecon package. Nothing for development: requirements-dev.txt (pytest, ruff,
# playwright, moto ...) and the demo generator (demo/) stay out. No system packages are added: PDFs
# take their font from PyPI (justmytype-intl-cjk), nothing renders through Pango or system fonts.
#
#   docker compose build            (or: docker build -t fieldrecon-airflow:3.3.2 .)
#
# Airflow itself is NOT reinstalled: the airflow distributions are filtered out of requirements.txt
# and `apache-airflow==$AIRFLOW_VERSION` is named in the same pip command, the way the Airflow
# docs extend the image, so pip can neither upgrade nor downgrade the image's Airflow.
# The Python minor version matches the project's pinned venv (.venv is CPython 3.11).
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.11
FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}

ARG AIRFLOW_VERSION=3.3.2

# the data folders compose mounts (owned by the airflow user for a run without mounts)
USER root
RUN mkdir -p /opt/fieldrecon /data/fieldrecon/landing /data/fieldrecon/archive /data/fieldrecon/outputs \
       /data/fieldrecon/packs /data/fieldrecon/reports \
  && chown -R airflow:0 /opt/fieldrecon /data/fieldrecon
USER airflow

# The pinned requirements, without the airflow distributions the image already has.
COPY --chown=airflow:0 requirements.txt /opt/fieldrecon/requirements.txt
RUN grep -v -E '^(apache-airflow|apache-airflow-core|apache-airflow-task-sdk)==' /opt/fieldrecon/requirements.txt \
      > /tmp/requirements-image.txt \
  && pip install --no-cache-dir \
       "apache-airflow==${AIRFLOW_VERSION}" \
       -r /tmp/requirements-image.txt \
  && python -c "import airflow, sys; v = airflow.__version__; sys.exit(0 if v == '${AIRFLOW_VERSION}' else f'airflow changed to {v}')" \
  && python -c "import importlib.util as u, sys; dev = [m for m in ('pytest', 'ruff', 'playwright', 'moto', 'fieldrecon_demo') if u.find_spec(m)]; sys.exit(f'development packages in the image: {dev}' if dev else 0)" \
  && rm /tmp/requirements-image.txt

# The project, installed editable so that PROJECT_ROOT (settings.py) is /opt/fieldrecon and
# include/sql is found next to src/; compose mounts ./src and ./include over these copies.
COPY --chown=airflow:0 pyproject.toml /opt/fieldrecon/pyproject.toml
COPY --chown=airflow:0 src /opt/fieldrecon/src
COPY --chown=airflow:0 include /opt/fieldrecon/include
RUN pip install --no-cache-dir --no-deps -e /opt/fieldrecon \
  && python -c "import fieldrecon.settings as s; assert str(s.PROJECT_ROOT) == '/opt/fieldrecon', s.PROJECT_ROOT"

# DAGs and plugins baked in too (compose mounts the working tree over them).
COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 plugins /opt/airflow/plugins

ENV FIELDRECON_HOME=/data/fieldrecon \
    FIELDRECON_PRODUCTION=true \
    FIELDRECON_LANDING=/data/fieldrecon/landing \
    FIELDRECON_ARCHIVE=/data/fieldrecon/archive \
    FIELDRECON_OUTPUT=/data/fieldrecon/outputs \
    FIELDRECON_PACKS=/data/fieldrecon/packs \
    FIELDRECON_REPORTS=/data/fieldrecon/reports
