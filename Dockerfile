# The fieldrecon image for docker-compose.yaml: the official Airflow image, the project's pinned
# requirements, the FAB auth manager, the fieldrecon package and what PDF rendering needs.
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
# providers the deployment needs besides requirements.txt (checked against apache-airflow 3.3.2:
# fab 3.10.2 needs flask-appbuilder 5.2.2, i.e. python-dateutil<3 in requirements.txt)
ARG FAB_PROVIDER_VERSION=3.10.2
ARG CELERY_PROVIDER_VERSION=3.26.0
ARG REDIS_PROVIDER_VERSION=4.7.1

# System packages for rendering PDF packs (HTML -> PDF with Pango, e.g. WeasyPrint): Chinese fonts,
# fontconfig, Pango/HarfBuzz, MIME data.
USER root
RUN apt-get update \
  && apt-get install -y --no-install-recommends \
       fonts-noto-cjk \
       fontconfig \
       libpango-1.0-0 \
       libpangoft2-1.0-0 \
       libharfbuzz-subset0 \
       shared-mime-info \
  && fc-cache -f \
  && apt-get autoremove -yqq --purge \
  && apt-get clean \
  && rm -rf /var/lib/apt/lists/* \
  && mkdir -p /opt/fieldrecon /data/fieldrecon/landing /data/fieldrecon/archive /data/fieldrecon/outputs /data/fieldrecon/packs \
  && chown -R airflow:0 /opt/fieldrecon /data/fieldrecon
USER airflow

# The pinned requirements, without the airflow distributions the image already has.
COPY --chown=airflow:0 requirements.txt /opt/fieldrecon/requirements.txt
RUN grep -v -E '^(apache-airflow|apache-airflow-core|apache-airflow-task-sdk)==' /opt/fieldrecon/requirements.txt \
      > /tmp/requirements-image.txt \
  && pip install --no-cache-dir \
       "apache-airflow==${AIRFLOW_VERSION}" \
       -r /tmp/requirements-image.txt \
       "apache-airflow-providers-fab==${FAB_PROVIDER_VERSION}" \
       "apache-airflow-providers-celery==${CELERY_PROVIDER_VERSION}" \
       "apache-airflow-providers-redis==${REDIS_PROVIDER_VERSION}" \
  && python -c "import airflow, sys; v = airflow.__version__; sys.exit(0 if v == '${AIRFLOW_VERSION}' else f'airflow changed to {v}')" \
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
    FIELDRECON_LANDING=/data/fieldrecon/landing \
    FIELDRECON_ARCHIVE=/data/fieldrecon/archive \
    FIELDRECON_OUTPUT=/data/fieldrecon/outputs \
    FIELDRECON_PACKS=/data/fieldrecon/packs
