"""Which files hold credentials: one table, judged by what a file is, not its exact spelling.

A name matches ignoring case, on its last path components (`.aws/credentials` matches any folder's). What a name
cannot tell (a key saved as `notes.txt`, a service account's JSON by any name) its first bytes can: `looks_secret`
reads the signatures of private keys and service-account files. The README's secret-file table is this one
(a test keeps them equal).
"""

from __future__ import annotations

import fnmatch
import re

# (glob, what it is). A glob with a `/` matches that many trailing components of the path.
SECRET_FILES: tuple[tuple[str, str], ...] = (
    (".env", "dotenv file"),
    (".env.*", "dotenv variants (.env.local, .env.production, …)"),
    ("*.env", "dotenv variants (prod.env, …)"),
    (".envrc", "direnv file"),
    ("*.pem", "PEM keys and certificates"),
    ("*.key", "private keys"),
    ("*.p8", "PKCS#8 keys (App Store, …)"),
    ("*.p12", "PKCS#12 bundles"),
    ("*.pfx", "PKCS#12 bundles"),
    ("*.jks", "Java keystores"),
    ("*.keystore", "Java and Android keystores"),
    ("*.ppk", "PuTTY private keys"),
    ("id_rsa*", "OpenSSH RSA keys (id_rsa, id_rsa_work, …; not .pub)"),
    ("id_dsa*", "OpenSSH DSA keys"),
    ("id_ecdsa*", "OpenSSH ECDSA keys (id_ecdsa, id_ecdsa_sk, …)"),
    ("id_ed25519*", "OpenSSH Ed25519 keys (id_ed25519, id_ed25519_sk, …)"),
    ("id_xmss*", "OpenSSH XMSS keys"),
    ("identity", "SSH protocol 1 keys"),
    ("ssh_host_*_key", "SSH host keys"),
    ("*.gpg", "GnuPG encrypted files and keyrings"),
    (".pgpass", "PostgreSQL passwords"),
    (".my.cnf", "MySQL client passwords"),
    (".netrc", "netrc logins"),
    ("_netrc", "netrc logins (Windows)"),
    (".npmrc", "npm tokens"),
    (".yarnrc.yml", "Yarn tokens"),
    (".pypirc", "PyPI tokens"),
    (".gem/credentials", "RubyGems tokens"),
    (".cargo/credentials", "crates.io tokens"),
    (".cargo/credentials.toml", "crates.io tokens"),
    (".git-credentials", "git stored credentials"),
    (".config/gh/hosts.yml", "GitHub CLI tokens"),
    (".htpasswd", "web server passwords"),
    (".vault-token", "HashiCorp Vault token"),
    (".docker/config.json", "Docker registry logins"),
    (".dockercfg", "Docker registry logins (old format)"),
    (".kube/config", "Kubernetes config"),
    ("kubeconfig", "Kubernetes config"),
    ("*.kubeconfig", "Kubernetes config"),
    (".aws/credentials", "AWS credentials"),
    (".aws/config", "AWS config (may hold keys and SSO sessions)"),
    (".boto", "AWS/GCS boto credentials"),
    (".s3cfg", "s3cmd credentials"),
    (".azure/*.json", "Azure CLI tokens"),
    (".config/gcloud/*", "Google Cloud CLI credentials"),
    ("application_default_credentials.json", "Google Cloud application default credentials"),
    ("*service-account*.json", "Google Cloud service-account keys"),
    ("*service_account*.json", "Google Cloud service-account keys"),
    ("credentials", "credential files (AWS, …)"),
    ("credentials.[jytice]*", "credential files (credentials.json, .yaml, .toml, .ini, .csv, .env, …)"),
    ("credentials.db", "credential databases (gcloud, …)"),
    ("*.tfstate", "Terraform state (holds every secret it manages)"),
    ("*.tfstate.backup", "Terraform state backups"),
    ("*.tfvars", "Terraform variables"),
    (".terraformrc", "Terraform CLI tokens"),
    ("credentials.tfrc.json", "Terraform Cloud tokens"),
    ("secret.[jytie]*", "files named secret (json, yaml, toml, txt, ini, env)"),
    ("secrets.[jytie]*", "files named secrets (json, yaml, toml, txt, ini, env)"),
)
NOT_SECRET = ("*.pub",)  # public halves of key pairs

_SIGNATURES = re.compile(
    rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----|PuTTY-User-Key-File-\d|\"type\"\s*:\s*\"service_account\""
    rb"|\"private_key\"\s*:\s*\"-----BEGIN"
)


def is_secret_name(path: str) -> bool:
    """Whether `path` (any separator style, any case) names a credential file in the table."""
    parts = [p for p in path.replace("\\", "/").lower().split("/") if p]
    if not parts or any(fnmatch.fnmatchcase(parts[-1], glob) for glob in NOT_SECRET):
        return False
    for glob, _ in SECRET_FILES:
        depth = glob.count("/") + 1
        if len(parts) >= depth and fnmatch.fnmatchcase("/".join(parts[-depth:]), glob):
            return True
    return False


def looks_secret(head: bytes) -> bool:
    """Whether a file's first bytes are a private key or a service account's key, whatever its name."""
    return _SIGNATURES.search(head) is not None


def markdown_table() -> str:
    """The table as the README shows it."""
    rows = ["| file | what it is |", "| --- | --- |"]
    rows += [f"| `{glob}` | {what} |" for glob, what in SECRET_FILES]
    return "\n".join(rows)
