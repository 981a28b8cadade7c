"""How the tracker is deployed: the release step each deploy runs once (release.py), gunicorn's
settings (gunicorn.conf.py) and the Kubernetes manifests (kubernetes/, a Kustomize base)."""
