# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#
# The system calls a systemd SystemCallFilter= allow-list lets through, one a line:
#
#   systemd-analyze syscall-filter --no-pager | awk -v filter='@system-service bpf' -f THIS
#
# systemd-analyze prints each group with the groups it includes by name; this expands them.
/^@/ { group = $1; next }
/^ *#/ || /^ *$/ { next }
group != "" { n[group]++; m[group, n[group]] = $1 }

function add(name,    i) {
	if (name in seen)
		return
	seen[name] = 1
	if (name ~ /^@/)
		for (i = 1; i <= n[name]; i++)
			add(m[name, i])
	else
		out[name] = 1
}

END {
	k = split(filter, f, /[ \t]+/)
	add("@default")
	for (i = 1; i <= k; i++)
		if (f[i] != "")
			add(f[i])
	for (s in out)
		print s
}
