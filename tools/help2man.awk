# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#
# A program's --help, as the program prints it, into man(7) sections, so that the man
# page and --help cannot drift apart: one source (the usage string in the C) makes both.
#
#   PROG --help | awk -f tools/help2man.awk
#
# What it reads, in the layout inspectd's and inspectctl's usage strings keep:
#   - "Usage: ..." (dropped: the page's SYNOPSIS is written with it), then the lines up to
#     the first blank one: DESCRIPTION;
#   - blocks separated by blank lines. A block's first line, if not indented and ending
#     in ':', is its heading: "Options:", "Commands:" and "Examples:" become sections
#     (.SH), any other a subsection (.SS) of the one before. A line not indented and not
#     a heading is prose (.PP). An indented line "  TERM  text" (two spaces or more
#     between, or text from column 32 on, below) or "  TERM" alone is a tagged paragraph (.TP);
#     a line indented further goes on the text of the one before.
#   - in the Examples section every line is kept as it is (.EX/.EE).
# roff's own characters are escaped: '\' as \e, '-' as \- (options stay copyable), a '.'
# or '\'' that would begin a line behind \&.

function esc(s) {
	gsub(/\\/, "\\e", s)
	gsub(/-/, "\\-", s)
	if (s ~ /^[.']/)
		s = "\\&" s
	return s
}

# An option term: each word that begins with '-' in bold, its arguments in italics.
function term(s,    n, w, i, out, word) {
	n = split(s, w, / /)
	out = ""
	for (i = 1; i <= n; i++) {
		word = esc(w[i])
		if (w[i] ~ /^-/)
			word = "\\fB" word "\\fR"
		else if (w[i] ~ /^[A-Z][A-Z_|]*[,]?$/)
			word = "\\fI" word "\\fR"
		out = out (i > 1 ? " " : "") word
	}
	return out
}

function heading(h) {
	sub(/:$/, "", h)
	if (examples) {
		print ".EE"
		examples = 0
	}
	prose = 0
	if (h == "Options" || h == "Commands" || h == "Examples") {
		print ".SH " toupper(h)
		examples = (h == "Examples")
		if (examples)
			print ".EX"
	} else {
		print ".SS \"" esc(h) "\""
	}
}

BEGIN { part = "usage" }

part == "usage" {
	if ($0 ~ /^Usage:/)
		next
	if ($0 == "") {
		part = "blocks"
		first = 1
		next
	}
	if (!described) {
		print ".SH DESCRIPTION"
		described = 1
	}
	print esc($0)
	next
}

$0 == "" {
	if (examples)
		print ""
	first = 1
	prose = 0
	next
}

examples {
	if (first && $0 !~ /^ / && $0 ~ /:$/) {
		heading($0)
		first = 0
		next
	}
	line = $0
	sub(/^  /, "", line)
	print esc(line)
	first = 0
	next
}

first && $0 !~ /^ / && $0 ~ /:$/ {
	heading($0)
	first = 0
	next
}

{ first = 0 }

/^[^ ]/ {
	if (!prose)
		print ".PP"
	print esc($0)
	prose = 1
	next
}

# A term: two spaces, then no third.
/^  [^ ]/ {
	line = substr($0, 3)
	# The text column, 32, even where one space parts it from a long term; not where the
	# term only goes on there (an argument: "[--wait]", "-x", "<file>", "PID").
	if (length($0) > 32 && substr($0, 32, 1) == " " && substr($0, 33) !~ /^([ [<-]|[A-Z]+( |$))/) {
		t = substr($0, 3, 29)
		sub(/ +$/, "", t)
		text = substr($0, 33)
	} else if (match(line, /   */)) {
		t = substr(line, 1, RSTART - 1)
		text = substr(line, RSTART + RLENGTH)
	} else {
		t = line
		text = ""
	}
	print ".TP"
	print term(t)
	if (text != "")
		print esc(text)
	prose = 0
	next
}

# Text going on: indented further.
{
	line = $0
	sub(/^ +/, "", line)
	print esc(line)
	prose = 0
}

END {
	if (examples)
		print ".EE"
}
