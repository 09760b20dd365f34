"""The clerks' download page: who sees what (access), what is read (queries), which file a link may
open (paths), how a finding is marked explained (triage), forged-request defence (csrf), the page
(page + include/templates/portal/) and the FastAPI app the Airflow plugin mounts (app)."""
