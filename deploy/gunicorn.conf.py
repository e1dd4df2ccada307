"""gunicorn for the portal and the API: /etc/ekort/gunicorn.conf.py, read by
ekort-portal.service (docs/operations.md). Behind nginx (deploy/nginx/ekort.conf), on loopback
only: nginx is the one client, and the portal believes its client-certificate headers from that
address alone (EKORT_CLIENT_CERT_PROXIES)."""

import multiprocessing
import os

wsgi_app = "ekort.wsgi:application"
bind = os.environ.get("EKORT_PORTAL_BIND", "127.0.0.1:8001")
# Django's request cycle is synchronous: a few processes per core. The OCSP hot path is not
# here (ekort-ocsp@.service), so the portal needs no more.
workers = int(os.environ.get("EKORT_PORTAL_WORKERS", str(2 * multiprocessing.cpu_count() + 1)))
# A card photo upload or a large order file takes a while on a slow line; nothing takes longer.
timeout = 120
graceful_timeout = 30
keepalive = 5
# Workers are replaced now and then, so that a slow leak never grows.
max_requests = 2000
max_requests_jitter = 200
# Access lines go to the journal with the request id nginx made (X-Request-ID).
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(L)ss id=%({x-request-id}i)s'
errorlog = "-"
# Django reads X-Forwarded-* itself (EKORT_BEHIND_PROXY=1); gunicorn believes them from nginx.
forwarded_allow_ips = "127.0.0.1"
proc_name = "ekort-portal"
# systemd starts, reloads and stops it; gunicorn's own control socket (in the home directory,
# which the unit hides) is not used.
control_socket_disable = True


# Metrics (docs/operations.md, "Health, readiness and metrics"): with PROMETHEUS_MULTIPROC_DIR
# set, each worker writes its figures there and /metrics adds them up; the directory is
# emptied when gunicorn starts, and a worker that ends is marked so.
def on_starting(server):
    import shutil

    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
