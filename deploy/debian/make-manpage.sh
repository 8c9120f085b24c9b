#!/usr/bin/env bash
# Writes keybridge(1), the reference of every command, flag and environment variable, from the
# binary's own --help texts (so it cannot drift from them) to standard output.
#   deploy/debian/make-manpage.sh path/to/keybridge > keybridge.1
set -euo pipefail
bin=${1:?usage: make-manpage.sh KEYBRIDGE_BINARY}
version=$("$bin" --version | awk '{print $NF}')

# roff-safe: backslashes, and lines that start with a control character.
escape() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }

# The subcommand names under "Subcommands:" of one --help text.
subcommands() {
  awk '/^Subcommands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{on=0}'
}

# One section per command, depth first: "keybridge", "keybridge serve", "keybridge tokens create".
section() {
  local help
  help=$("$bin" "$@" --help | sed -e "s|^Usage: [^ ]*keybridge|Usage: keybridge|")
  if [ $# -gt 0 ]; then
    printf '.SS "keybridge %s"\n' "$*"
  fi
  printf '.nf\n'
  printf '%s\n' "$help" | escape
  printf '.fi\n'
  local sub
  for sub in $(printf '%s\n' "$help" | subcommands); do
    section "$@" "$sub"
  done
}

cat <<HEADER
.TH KEYBRIDGE 1 "" "keybridge $version" "keybridge manual"
.SH NAME
keybridge \\- fresh OAuth2 tokens from GitLab, GitHub and data providers for research sessions
.SH SYNOPSIS
.B keybridge
[\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR]
.br
.B keybridgectl
\\fICOMMAND\\fR [\\fIOPTIONS\\fR]
.SH DESCRIPTION
Administrators register OAuth2 clients (integrations) for GitLab, GitHub and data providers;
users connect once; their sessions get tokens that are always fresh, through the HTTP API,
the git credential helper, the git proxy, the Docker credential helper and rclone.
.PP
Every option of \\fBkeybridge serve\\fR can also be given as the environment variable shown
beside it (Env:...); a flag wins over the variable.
.PP
\\fBkeybridgectl\\fR runs \\fBkeybridge\\fR as the service's user with the service's
configuration (\\fI/etc/keybridge/keybridge.env\\fR), so that commands such as
\\fBkeybridgectl tokens create --user admin --admin\\fR act on the service's database and key file.
.SH COMMANDS
HEADER
section
cat <<'FOOTER'
.SH FILES
.TP
.I /etc/keybridge/keybridge.env
The service's configuration (KEYBRIDGE_* variables), mode 0640, root:keybridge.
.TP
.I /var/lib/keybridge
The service's state: the SQLite database (by default), the key file and the one-time
administrator sign-in link. Back up the database and the key file together: one cannot be
read without the other.
.TP
.I /lib/systemd/system/keybridge.service
The systemd unit: \fBsystemctl restart keybridge\fR, \fBjournalctl -u keybridge\fR.
.SH SEE ALSO
.BR git-credential (1),
.BR rclone (1),
.BR systemctl (1)
FOOTER
