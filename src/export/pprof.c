// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* V8 profiles to gzipped pprof, streaming: see include/pprof.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "pprof.h"
#include "utf8.h"

#define IN_SIZE   65536
#define KEY_SIZE  24

/* ---- interned strings: the pprof string table ---- */

struct strtab {
	char **s;
	size_t n, cap;
	uint32_t *slots;        /* index + 1; 0 empty */
	size_t nslots;
	size_t bytes;           /* of every string held: PPROF_STRINGS_BYTES_MAX at most */
};

static uint64_t hash_bytes(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return h;
}

static int strtab_grow(struct strtab *t)
{
	size_t nslots = t->nslots ? t->nslots * 2 : 1024;
	uint32_t *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		size_t j = hash_bytes(t->s[i], strlen(t->s[i])) & (nslots - 1);

		while (slots[j])
			j = (j + 1) & (nslots - 1);
		slots[j] = (uint32_t)i + 1;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	return 0;
}

/* The index of s (len bytes, no NUL in it) in the table; added if new. -ENOMEM, -E2BIG. */
static int64_t strtab_intern(struct strtab *t, const char *s, size_t len)
{
	size_t j;

	if ((t->n + 1) * 2 > t->nslots && strtab_grow(t) < 0)
		return -ENOMEM;
	for (j = hash_bytes(s, len) & (t->nslots - 1); t->slots[j]; j = (j + 1) & (t->nslots - 1)) {
		const char *o = t->s[t->slots[j] - 1];

		if (strlen(o) == len && memcmp(o, s, len) == 0)
			return t->slots[j] - 1;
	}
	if (t->bytes + len + 1 > PPROF_STRINGS_BYTES_MAX)
		return -E2BIG;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		char **n = realloc(t->s, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->s = n;
		t->cap = cap;
	}
	if (!(t->s[t->n] = strndup(s, len)))
		return -ENOMEM;
	t->slots[j] = (uint32_t)t->n + 1;
	t->bytes += len + 1;
	return (int64_t)t->n++;
}

static void strtab_free(struct strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->s[i]);
	free(t->s);
	free(t->slots);
}

/* ---- nodes, by V8 id ---- */

struct node {
	int64_t id;
	int64_t parent;         /* index, -1: none */
	uint32_t name, url;     /* string indexes */
	int64_t line;           /* 0-based as CDP's; -1 unknown */
	int64_t count, bytes, hit, self;
	bool has_id;
};

struct edge {
	int64_t child_id;
	int64_t parent;         /* index */
};

struct conv {
	const struct pprof_config *cfg;
	struct strtab str;
	struct node *nodes;
	size_t n_nodes, cap_nodes;
	int64_t *slots;         /* index + 1 by id; 0 empty */
	size_t nslots;
	struct edge *edges;
	size_t n_edges, cap_edges;
	bool have_samples;
	int64_t start_us, end_us;
	/* a heap sample being read */
	int64_t s_size, s_node;
	bool s_has_node;
	uint64_t unknown_samples;
};

static int node_add(struct conv *c, int64_t parent, size_t *ret)
{
	if (c->n_nodes >= PPROF_NODES_MAX)
		return -E2BIG;
	if (c->n_nodes == c->cap_nodes) {
		size_t cap = c->cap_nodes ? c->cap_nodes * 2 : 1024;
		struct node *n = realloc(c->nodes, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		c->nodes = n;
		c->cap_nodes = cap;
	}
	c->nodes[c->n_nodes] = (struct node){ .parent = parent, .line = -1 };
	*ret = c->n_nodes++;
	return 0;
}

static size_t id_slot(int64_t id, size_t nslots)
{
	return (size_t)(((uint64_t)id * 11400714819323198485ull) >> 17) & (nslots - 1);
}

static int id_grow(struct conv *c)
{
	size_t nslots = c->nslots ? c->nslots * 2 : 2048;
	int64_t *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < c->nslots; i++) {
		size_t j;

		if (!c->slots[i])
			continue;
		for (j = id_slot(c->nodes[c->slots[i] - 1].id, nslots); slots[j]; j = (j + 1) & (nslots - 1))
			;
		slots[j] = c->slots[i];
	}
	free(c->slots);
	c->slots = slots;
	c->nslots = nslots;
	return 0;
}

static int64_t id_find(const struct conv *c, int64_t id)
{
	if (!c->nslots)
		return -1;
	for (size_t j = id_slot(id, c->nslots); c->slots[j]; j = (j + 1) & (c->nslots - 1)) {
		if (c->nodes[c->slots[j] - 1].id == id)
			return c->slots[j] - 1;
	}
	return -1;
}

/* Node idx has id: -EPROTO if it had one or another node has it. */
static int id_set(struct conv *c, size_t idx, int64_t id)
{
	size_t j;

	if (c->nodes[idx].has_id || id_find(c, id) >= 0)
		return -EPROTO;
	c->nodes[idx].id = id;
	c->nodes[idx].has_id = true;
	if (c->n_nodes * 2 > c->nslots && id_grow(c) < 0)
		return -ENOMEM;
	for (j = id_slot(id, c->nslots); c->slots[j]; j = (j + 1) & (c->nslots - 1))
		;
	c->slots[j] = (int64_t)idx + 1;
	return 0;
}

/* ---- the JSON reader: a pull parser over the fd, with a stack of open values ---- */

enum tok { T_OBJ, T_ARR, T_END, T_STR, T_NUM, T_LIT };

struct frame {
	bool is_obj;
	bool is_node;           /* a profile node's object */
	char under[KEY_SIZE];   /* the key it is the value of ("" in an array, or cut) */
	int64_t node;           /* its node's index when is_node */
};

struct reader {
	int fd;
	uint64_t off;
	char buf[IN_SIZE];
	size_t pos, len;
	bool eof;
	struct frame *stack;
	size_t depth;
	char key[KEY_SIZE];     /* the current member's key (cut) in the top object */
	char str[PPROF_STRING_MAX];
	size_t str_len;
	double num;
};

static int rd_fill(struct reader *r)
{
	ssize_t n;

	if (r->pos < r->len || r->eof)
		return 0;
	do
		n = pread(r->fd, r->buf, sizeof(r->buf), (off_t)r->off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	r->off += (uint64_t)n;
	r->pos = 0;
	r->len = (size_t)n;
	r->eof = n == 0;
	return 0;
}

/* The next byte, or -1 at the end; *err on a read error. */
static int rd_get(struct reader *r, int *err)
{
	if (r->pos == r->len) {
		int e = rd_fill(r);

		if (e < 0) {
			*err = e;
			return -1;
		}
		if (r->eof)
			return -1;
	}
	return (unsigned char)r->buf[r->pos++];
}

static int rd_peek_ws(struct reader *r, int *err)
{
	for (;;) {
		int ch = rd_get(r, err);

		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
			continue;
		if (ch >= 0)
			r->pos--;       /* rd_get() never refills past an unread byte */
		return ch;
	}
}

static void str_put(struct reader *r, uint32_t cp)
{
	char u[UTF8_MAX];
	size_t n = utf8_encode(cp, u);

	if (r->str_len + n <= sizeof(r->str) - 1) {   /* cut on a character boundary */
		memcpy(r->str + r->str_len, u, n);
		r->str_len += n;
	}
}

static int rd_hex4(struct reader *r, uint32_t *ret)
{
	int err = 0;

	*ret = 0;
	for (int i = 0; i < 4; i++) {
		int ch = rd_get(r, &err);

		if (err)
			return err;
		if (ch >= '0' && ch <= '9')
			*ret = *ret << 4 | (uint32_t)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			*ret = *ret << 4 | (uint32_t)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			*ret = *ret << 4 | (uint32_t)(ch - 'A' + 10);
		else
			return -EPROTO;
	}
	return 0;
}

/* A string after its opening quote, into r->str (cut at PPROF_STRING_MAX - 1 bytes). */
static int rd_string(struct reader *r)
{
	int err = 0;

	r->str_len = 0;
	for (;;) {
		int ch = rd_get(r, &err);

		if (err)
			return err;
		if (ch < 0x20)
			return -EPROTO;         /* the end, or a control character */
		if (ch == '"')
			break;
		if (ch != '\\') {
			if (r->str_len < sizeof(r->str) - 1)
				r->str[r->str_len++] = (char)ch;
			continue;
		}
		ch = rd_get(r, &err);
		if (err)
			return err;
		switch (ch) {
		case '"': case '\\': case '/': str_put(r, (uint32_t)ch); break;
		case 'b': str_put(r, '\b'); break;
		case 'f': str_put(r, '\f'); break;
		case 'n': str_put(r, '\n'); break;
		case 'r': str_put(r, '\r'); break;
		case 't': str_put(r, '\t'); break;
		case 'u': {
			uint32_t cp, lo;
			int e = rd_hex4(r, &cp);

			if (e < 0)
				return e;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return -EPROTO;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (rd_get(r, &err) != '\\' || rd_get(r, &err) != 'u')
					return err ? err : -EPROTO;
				e = rd_hex4(r, &lo);
				if (e < 0)
					return e;
				if (lo < 0xdc00 || lo > 0xdfff)
					return -EPROTO;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			str_put(r, cp ? cp : ' ');      /* names hold no NUL */
			break;
		}
		default:
			return -EPROTO;
		}
	}
	/* Cut mid-character by the raw copy: back to the start of a character left incomplete. */
	if (r->str_len >= sizeof(r->str) - 4) {
		size_t i = r->str_len, k = 0;

		while (i > 0 && k < 3 && ((unsigned char)r->str[i - 1] & 0xc0) == 0x80) {
			i--;
			k++;
		}
		if (i > 0) {
			unsigned char lead = (unsigned char)r->str[i - 1];
			size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;

			if (need == 1 && k)
				r->str_len = i;         /* stray continuation bytes */
			else if (need > 1 && k + 1 < need)
				r->str_len = i - 1;     /* the lead and what came of its character */
		}
	}
	r->str[r->str_len] = '\0';
	return 0;
}

/* A number (strict JSON grammar) starting with ch. */
static int rd_number(struct reader *r, int ch)
{
	char b[64];
	size_t n = 0;
	int err = 0, state = 0;
	char *end;

	/* states: 0 sign, 1 int first, 2 int rest, 3 frac first, 4 frac, 5 exp sign, 6 exp first, 7 exp */
	for (;; ch = rd_get(r, &err)) {
		if (err)
			return err;
		if (ch == '-' && state == 0) {
			state = 1;
		} else if (ch >= '0' && ch <= '9' && state <= 2) {
			if (state == 2 && n && (b[n - 1] == '0') && (n == 1 || b[n - 2] == '-'))
				return -EPROTO;         /* a leading zero */
			state = 2;
		} else if (ch == '.' && state == 2) {
			state = 3;
		} else if (ch >= '0' && ch <= '9' && (state == 3 || state == 4)) {
			state = 4;
		} else if ((ch == 'e' || ch == 'E') && (state == 2 || state == 4)) {
			state = 5;
		} else if ((ch == '+' || ch == '-') && state == 5) {
			state = 6;
		} else if (ch >= '0' && ch <= '9' && state >= 5) {
			state = 7;
		} else {
			break;
		}
		if (n == sizeof(b) - 1)
			return -EPROTO;
		b[n++] = (char)ch;
	}
	if (ch >= 0)
		r->pos--;
	if (state != 2 && state != 4 && state != 7)
		return -EPROTO;
	b[n] = '\0';
	if (state == 2 && n < 16) {
		/* An integer (ids, sizes, deltas: most of a profile): no strtod(). */
		int64_t v = 0;
		size_t i = b[0] == '-';

		for (; i < n; i++)
			v = v * 10 + (b[i] - '0');
		r->num = (double)(b[0] == '-' ? -v : v);
		return 0;
	}
	r->num = strtod(b, &end);
	return 0;
}

static int rd_literal(struct reader *r, const char *rest)
{
	int err = 0;

	for (; *rest; rest++) {
		if (rd_get(r, &err) != *rest)
			return err ? err : -EPROTO;
	}
	return 0;
}

/* ---- the profile's shape ---- */

static const struct frame *up(const struct reader *r, size_t n)
{
	return r->depth > n ? &r->stack[r->depth - 1 - n] : NULL;
}

static bool is(const struct frame *f, bool obj, const char *under)
{
	return f && f->is_obj == obj && strcmp(f->under, under) == 0;
}

/* A value opens (obj or array) under key (the top frame is its container, if any). */
static int shape_open(struct conv *c, struct reader *r, struct frame *f)
{
	const struct frame *p = up(r, 0), *pp = up(r, 1);
	size_t idx;
	int e;

	if (!f->is_obj)
		return 0;
	if (c->cfg->kind == PPROF_CPU) {
		f->is_node = r->depth == 2 && is(p, false, "nodes");
	} else {
		f->is_node = (r->depth == 1 && strcmp(f->under, "head") == 0) ||
			     (is(p, false, "children") && pp && pp->is_node);
		if (r->depth == 2 && is(p, false, "samples")) {
			c->s_size = 0;
			c->s_has_node = false;
		}
	}
	if (f->is_node) {
		e = node_add(c, c->cfg->kind == PPROF_HEAP && pp && pp->is_node ? pp->node : -1, &idx);
		if (e < 0)
			return e;
		f->node = (int64_t)idx;
	}
	return 0;
}

static int shape_close(struct conv *c, struct reader *r, const struct frame *f)
{
	const struct frame *p = up(r, 0);

	if (c->cfg->kind == PPROF_HEAP && f->is_obj && r->depth == 2 && is(p, false, "samples")) {
		int64_t idx = c->s_has_node ? id_find(c, c->s_node) : -1;

		c->have_samples = true;
		if (idx < 0) {
			c->unknown_samples++;
			return 0;
		}
		c->nodes[idx].count++;
		if (c->s_size > 0 && __builtin_add_overflow(c->nodes[idx].bytes, c->s_size, &c->nodes[idx].bytes))
			c->nodes[idx].bytes = INT64_MAX;        /* saturated */
		return 0;
	}
	if (f->is_node && !c->nodes[f->node].has_id)
		return -EPROTO;
	return 0;
}

static int shape_scalar(struct conv *c, struct reader *r, enum tok t)
{
	const struct frame *p = up(r, 0), *pp = up(r, 1), *ppp = up(r, 2);
	/* An integer that fits (a hostile 1e300 is none: no cast of it). */
	bool num_int = t == T_NUM && r->num >= -9.0e18 && r->num <= 9.0e18 && r->num == (double)(int64_t)r->num;
	const char *k = p && p->is_obj ? r->key : "";
	int64_t v = num_int ? (int64_t)r->num : 0;

	if (!p)
		return 0;
	if (p->is_node) {
		struct node *n = &c->nodes[p->node];

		if (strcmp(k, "id") == 0)
			return num_int ? id_set(c, (size_t)p->node, v) : -EPROTO;
		if (strcmp(k, "hitCount") == 0 && num_int)
			n->hit = v;
		if (strcmp(k, "selfSize") == 0 && num_int)
			n->self = v;
		return 0;
	}
	if (is(p, true, "callFrame") && pp && pp->is_node) {
		struct node *n = &c->nodes[pp->node];
		int64_t s;

		if (strcmp(k, "functionName") == 0 || strcmp(k, "url") == 0) {
			if (t != T_STR)
				return -EPROTO;
			/* An anonymous function is "(anonymous)", as DevTools shows it. */
			if (k[0] == 'f' && r->str_len == 0)
				s = strtab_intern(&c->str, "(anonymous)", 11);
			else
				s = strtab_intern(&c->str, r->str, r->str_len);
			if (s < 0)
				return (int)s;
			if (k[0] == 'f')
				n->name = (uint32_t)s;
			else
				n->url = (uint32_t)s;
		} else if (strcmp(k, "lineNumber") == 0 && num_int) {
			n->line = v;
		}
		return 0;
	}
	if (c->cfg->kind == PPROF_CPU) {
		if (is(p, false, "children") && pp && pp->is_node) {
			if (!num_int)
				return -EPROTO;
			if (c->n_edges >= PPROF_NODES_MAX)     /* a node has one parent at most */
				return -E2BIG;
			if (c->n_edges == c->cap_edges) {
				size_t cap = c->cap_edges ? c->cap_edges * 2 : 1024;
				struct edge *e = realloc(c->edges, cap * sizeof(*e));

				if (!e)
					return -ENOMEM;
				c->edges = e;
				c->cap_edges = cap;
			}
			c->edges[c->n_edges++] = (struct edge){ .child_id = v, .parent = pp->node };
			return 0;
		}
		if (is(p, false, "samples") && r->depth == 2) {
			int64_t idx = num_int ? id_find(c, v) : -1;

			c->have_samples = true;
			if (idx < 0)
				c->unknown_samples++;
			else
				c->nodes[idx].count++;
			return 0;
		}
		if (r->depth == 1 && num_int && strcmp(k, "startTime") == 0)
			c->start_us = v;
		if (r->depth == 1 && num_int && strcmp(k, "endTime") == 0)
			c->end_us = v;
		return 0;
	}
	if (r->depth == 3 && p->is_obj && is(pp, false, "samples") && ppp && ppp == &r->stack[0]) {
		if (strcmp(k, "size") == 0 && num_int)
			c->s_size = v;
		if (strcmp(k, "nodeId") == 0 && num_int) {
			c->s_node = v;
			c->s_has_node = true;
		}
	}
	return 0;
}

/* The whole text: one value, objects and arrays walked with an explicit stack. */
static int parse(struct conv *c, struct reader *r)
{
	/* expect: 0 a value, 1 a key or '}', 2 ':', 3 ',' or the end of the container, 4 a key */
	int expect = 0, err = 0, e;
	bool first = true;

	for (;;) {
		int ch = rd_peek_ws(r, &err);

		if (err)
			return err;
		if (ch < 0)
			return r->depth == 0 && !first ? 0 : -EPROTO;
		if (r->depth == 0 && !first)
			return -EPROTO;         /* something after the value */
		r->pos++;
		if (expect == 1 || expect == 4) {
			if (ch == '}' && expect == 1)
				goto close;
			if (ch != '"')
				return -EPROTO;
			e = rd_string(r);
			if (e < 0)
				return e;
			/* A key longer than any we look for is none of them. */
			if (r->str_len < sizeof(r->key))
				memcpy(r->key, r->str, r->str_len + 1);
			else
				r->key[0] = '\0';
			expect = 2;
			continue;
		}
		if (expect == 2) {
			if (ch != ':')
				return -EPROTO;
			expect = 0;
			continue;
		}
		if (expect == 3) {
			if (ch == ',') {
				expect = r->stack[r->depth - 1].is_obj ? 4 : 0;
				continue;
			}
			if (ch != (r->stack[r->depth - 1].is_obj ? '}' : ']'))
				return -EPROTO;
			goto close;
		}
		/* a value */
		first = false;
		if (ch == ']' && r->depth && !r->stack[r->depth - 1].is_obj &&
		    expect == 0 && r->stack[r->depth - 1].node == -2) {
			goto close;     /* an empty array */
		}
		if (r->depth && !r->stack[r->depth - 1].is_obj)
			r->stack[r->depth - 1].node = -1;       /* no longer empty */
		if (r->depth == 0 && ch != '{')
			return -EPROTO;         /* a profile is an object */
		if (ch == '{' || ch == '[') {
			struct frame f = { .is_obj = ch == '{', .node = -2 };

			if (r->depth == PPROF_DEPTH_MAX)
				return -E2BIG;
			if (r->depth && r->stack[r->depth - 1].is_obj)
				memcpy(f.under, r->key, sizeof(f.under));
			e = shape_open(c, r, &f);
			if (e < 0)
				return e;
			if (!f.is_node)
				f.node = -2;
			r->stack[r->depth++] = f;
			expect = f.is_obj ? 1 : 0;
			continue;
		}
		if (ch == '"') {
			e = rd_string(r);
			if (e == 0)
				e = shape_scalar(c, r, T_STR);
		} else if (ch == '-' || (ch >= '0' && ch <= '9')) {
			e = rd_number(r, ch);
			if (e == 0)
				e = shape_scalar(c, r, T_NUM);
		} else if (ch == 't') {
			e = rd_literal(r, "rue");
		} else if (ch == 'f') {
			e = rd_literal(r, "alse");
		} else if (ch == 'n') {
			e = rd_literal(r, "ull");
		} else {
			e = -EPROTO;
		}
		if (e < 0)
			return e;
		expect = 3;
		if (r->depth == 0)
			return -EPROTO;         /* a profile is an object */
		continue;
close:
		{
			struct frame f = r->stack[--r->depth];

			e = shape_close(c, r, &f);
			if (e < 0)
				return e;
			expect = 3;
			if (r->depth == 0)
				first = false;
		}
	}
}

/* ---- protobuf, written through gzip ---- */

struct out {
	int fd;
	z_stream z;
	bool z_ok;
	unsigned char zbuf[IN_SIZE];
	/* one message being built (a sample, a location...), then written as a field */
	unsigned char *msg;
	size_t msg_len, msg_cap;
};

static int out_deflate(struct out *o, const void *p, size_t len, int flush)
{
	o->z.next_in = (unsigned char *)p;
	o->z.avail_in = (uInt)len;
	do {
		int zr;
		size_t have;

		o->z.next_out = o->zbuf;
		o->z.avail_out = sizeof(o->zbuf);
		zr = deflate(&o->z, flush);
		if (zr == Z_STREAM_ERROR)
			return -EIO;
		have = sizeof(o->zbuf) - o->z.avail_out;
		for (size_t done = 0; done < have;) {
			ssize_t n = write(o->fd, o->zbuf + done, have - done);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -errno;
			done += (size_t)n;
		}
	} while (o->z.avail_out == 0 || (flush == Z_FINISH && o->z.avail_in));
	return 0;
}

static int msg_put(struct out *o, const void *p, size_t len)
{
	if (o->msg_len + len > o->msg_cap) {
		size_t cap = o->msg_cap ? o->msg_cap : 256;
		unsigned char *n;

		while (cap < o->msg_len + len)
			cap *= 2;
		if (!(n = realloc(o->msg, cap)))
			return -ENOMEM;
		o->msg = n;
		o->msg_cap = cap;
	}
	memcpy(o->msg + o->msg_len, p, len);
	o->msg_len += len;
	return 0;
}

static size_t varint(unsigned char *b, uint64_t v)
{
	size_t n = 0;

	do {
		b[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return n;
}

static int msg_varint(struct out *o, uint32_t field, uint64_t v)
{
	unsigned char b[20];
	size_t n = varint(b, (uint64_t)field << 3);

	n += varint(b + n, v);
	return msg_put(o, b, n);
}

static int msg_bytes(struct out *o, uint32_t field, const void *p, size_t len)
{
	unsigned char b[20];
	size_t n = varint(b, (uint64_t)field << 3 | 2);

	n += varint(b + n, len);
	return msg_put(o, b, n) ?: msg_put(o, p, len);
}

/* The built message as field of the Profile, written out; the builder emptied. */
static int emit_msg(struct out *o, uint32_t field)
{
	unsigned char b[20];
	size_t n = varint(b, (uint64_t)field << 3 | 2);
	int e;

	n += varint(b + n, o->msg_len);
	e = out_deflate(o, b, n, Z_NO_FLUSH);
	if (e == 0)
		e = out_deflate(o, o->msg, o->msg_len, Z_NO_FLUSH);
	o->msg_len = 0;
	return e;
}

/* A Profile-level varint field. */
static int emit_varint(struct out *o, uint32_t field, uint64_t v)
{
	int e = msg_varint(o, field, v);
	int r;

	if (e < 0)
		return e;
	r = out_deflate(o, o->msg, o->msg_len, Z_NO_FLUSH);
	o->msg_len = 0;
	return r;
}

static int value_type(struct conv *c, struct out *o, uint32_t field, const char *type, const char *unit)
{
	int64_t t = strtab_intern(&c->str, type, strlen(type)), u = strtab_intern(&c->str, unit, strlen(unit));

	if (t < 0 || u < 0)
		return -ENOMEM;
	return msg_varint(o, 1, (uint64_t)t) ?: msg_varint(o, 2, (uint64_t)u) ?: emit_msg(o, field);
}

/* ---- functions: one per (name, url, line) ---- */

static uint64_t fn_key_hash(const struct node *n)
{
	return ((uint64_t)n->name * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)n->url * 0xc2b2ae3d27d4eb4full) ^
	       (uint64_t)n->line;
}

static int write_profile(struct conv *c, struct out *o)
{
	bool cpu = c->cfg->kind == PPROF_CPU;
	int64_t idle = strtab_intern(&c->str, "(idle)", 6), root = strtab_intern(&c->str, "(root)", 6);
	uint32_t *fn_of = NULL, *slots = NULL;  /* function id per node; hash of first node per function */
	size_t nslots = 1;
	uint64_t *stack = NULL;
	size_t depth_cap = 0;
	size_t frames = 0;      /* written for every sample so far */
	int e = 0;

	if (idle < 0 || root < 0)
		return -ENOMEM;
	e = value_type(c, o, 1, cpu ? "samples" : "inuse_objects", "count") ?:
	    value_type(c, o, 1, cpu ? "cpu" : "inuse_space", cpu ? "nanoseconds" : "bytes") ?:
	    value_type(c, o, 11, cpu ? "cpu" : "space", cpu ? "nanoseconds" : "bytes") ?:
	    emit_varint(o, 12, (uint64_t)(cpu ? c->cfg->interval * 1000 : c->cfg->interval));
	if (e == 0 && cpu && c->end_us > c->start_us && c->start_us > 0)
		e = emit_varint(o, 10, (uint64_t)(c->end_us - c->start_us) * 1000);
	if (e < 0)
		return e;

	/* Functions, deduplicated; a location per node (id = index + 1). */
	while (nslots < c->n_nodes * 2)
		nslots *= 2;
	fn_of = calloc(c->n_nodes ? c->n_nodes : 1, sizeof(*fn_of));
	slots = calloc(nslots, sizeof(*slots));
	if (!fn_of || !slots) {
		e = -ENOMEM;
		goto out;
	}
	{
		uint32_t next_fn = 1;

		for (size_t i = 0; i < c->n_nodes && e == 0; i++) {
			const struct node *n = &c->nodes[i];
			size_t j;

			for (j = fn_key_hash(n) & (nslots - 1); slots[j]; j = (j + 1) & (nslots - 1)) {
				const struct node *m = &c->nodes[slots[j] - 1];

				if (m->name == n->name && m->url == n->url && m->line == n->line)
					break;
			}
			if (slots[j]) {
				fn_of[i] = fn_of[slots[j] - 1];
			} else {
				slots[j] = (uint32_t)i + 1;
				fn_of[i] = next_fn++;
				/* Function: id, name, system_name, filename, start_line */
				e = msg_varint(o, 1, fn_of[i]) ?: msg_varint(o, 2, n->name) ?: msg_varint(o, 3, n->name) ?:
				    msg_varint(o, 4, n->url) ?:
				    (n->line >= 0 ? msg_varint(o, 5, (uint64_t)n->line + 1) : 0) ?: emit_msg(o, 5);
			}
			if (e == 0) {
				/* Location: id, line { function_id, line } */
				unsigned char line[24];
				size_t ln = varint(line, 1 << 3);

				ln += varint(line + ln, fn_of[i]);
				if (n->line >= 0) {
					ln += varint(line + ln, 2 << 3);
					ln += varint(line + ln, (uint64_t)n->line + 1);
				}
				e = msg_varint(o, 1, i + 1) ?: msg_bytes(o, 4, line, ln) ?: emit_msg(o, 4);
			}
		}
	}

	/* Samples: a node's stack, leaf first, without (root); (idle) dropped. */
	for (size_t i = 0; i < c->n_nodes && e == 0; i++) {
		const struct node *n = &c->nodes[i];
		int64_t count = c->have_samples ? n->count : (cpu ? n->hit : (n->self > 0 ? 1 : 0));
		int64_t v2;
		size_t d = 0;
		unsigned char b[24];
		size_t bl;

		if (cpu ? __builtin_mul_overflow(count, c->cfg->interval * 1000, &v2) : 0)
			v2 = INT64_MAX;         /* saturated */
		else if (!cpu)
			v2 = c->have_samples ? n->bytes : n->self;

		if (count <= 0 || (cpu && n->name == (uint32_t)idle))
			continue;
		for (int64_t k = (int64_t)i; k >= 0; k = c->nodes[k].parent) {
			if (c->nodes[k].parent < 0 && c->nodes[k].name == (uint32_t)root)
				break;
			if (d >= PPROF_DEPTH_MAX || frames >= PPROF_FRAMES_MAX) {
				e = -E2BIG;
				goto out;
			}
			frames++;
			if (d == depth_cap) {
				size_t cap = depth_cap ? depth_cap * 2 : 256;
				uint64_t *ns;

				if (d > c->n_nodes) {   /* a cycle */
					e = -EPROTO;
					goto out;
				}
				if (!(ns = realloc(stack, cap * sizeof(*ns)))) {
					e = -ENOMEM;
					goto out;
				}
				stack = ns;
				depth_cap = cap;
			}
			stack[d++] = (uint64_t)k + 1;
		}
		if (!d)
			continue;
		{
			/* packed location_id, packed values, then labels */
			struct out packed = { 0 };
			unsigned char *pk;

			for (size_t k = 0; k < d && e == 0; k++) {
				bl = varint(b, stack[k]);
				e = msg_put(&packed, b, bl);
			}
			if (e == 0)
				e = msg_bytes(o, 1, packed.msg, packed.msg_len);
			packed.msg_len = 0;
			if (e == 0) {
				bl = varint(b, (uint64_t)count);
				bl += varint(b + bl, (uint64_t)v2);
				e = msg_bytes(o, 2, b, bl);
			}
			for (size_t l = 0; l < c->cfg->n_labels && e == 0; l++) {
				const struct pprof_label *lb = &c->cfg->labels[l];
				int64_t key = strtab_intern(&c->str, lb->key, strlen(lb->key));
				int64_t val = lb->str ? strtab_intern(&c->str, lb->str, strlen(lb->str)) : 0;

				if (key < 0 || val < 0) {
					e = -ENOMEM;
					break;
				}
				packed.msg_len = 0;
				e = msg_varint(&packed, 1, (uint64_t)key) ?:
				    (lb->str ? msg_varint(&packed, 2, (uint64_t)val) : msg_varint(&packed, 3, (uint64_t)lb->num));
				if (e == 0) {
					pk = packed.msg;
					e = msg_bytes(o, 3, pk, packed.msg_len);
				}
			}
			free(packed.msg);
			if (e == 0)
				e = emit_msg(o, 2);
		}
	}

	/* The string table last: its order is the indexes. */
	for (size_t i = 0; i < c->str.n && e == 0; i++)
		e = msg_put(o, c->str.s[i], strlen(c->str.s[i])) ?: emit_msg(o, 6);
	if (e == 0)
		e = out_deflate(o, NULL, 0, Z_FINISH);
out:
	free(fn_of);
	free(slots);
	free(stack);
	return e;
}

/* Every node's parents end at a root: -EPROTO for a cycle. */
static int check_acyclic(const struct conv *c)
{
	unsigned char *st = calloc(c->n_nodes ? c->n_nodes : 1, 1);       /* 0 new, 1 on the walk, 2 ends */

	if (!st)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_nodes; i++) {
		int64_t k;

		for (k = (int64_t)i; k >= 0 && st[k] == 0; k = c->nodes[k].parent)
			st[k] = 1;
		if (k >= 0 && st[k] == 1) {
			free(st);
			return -EPROTO;
		}
		for (k = (int64_t)i; k >= 0 && st[k] == 1; k = c->nodes[k].parent)
			st[k] = 2;
	}
	free(st);
	return 0;
}

int pprof_convert(int in_fd, int out_fd, const struct pprof_config *cfg)
{
	struct conv c = { .cfg = cfg };
	struct reader *r = calloc(1, sizeof(*r));
	struct out *o = calloc(1, sizeof(*o));
	int e;

	if (!r || !o || !(r->stack = calloc(PPROF_DEPTH_MAX, sizeof(*r->stack)))) {
		e = -ENOMEM;
		goto out;
	}
	r->fd = in_fd;
	o->fd = out_fd;
	/* The string table's first entry is "". */
	e = strtab_intern(&c.str, "", 0) < 0 ? -ENOMEM : 0;
	if (e == 0)
		e = parse(&c, r);
	/* CPU: parents from the children lists. */
	for (size_t i = 0; e == 0 && i < c.n_edges; i++) {
		int64_t idx = id_find(&c, c.edges[i].child_id);

		if (idx < 0 || c.nodes[idx].parent >= 0 || idx == c.edges[i].parent) {
			e = -EPROTO;
			break;
		}
		c.nodes[idx].parent = c.edges[i].parent;
	}
	if (e == 0)
		e = check_acyclic(&c);
	if (e == 0) {
		if (deflateInit2(&o->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
			e = -ENOMEM;
			goto out;
		}
		o->z_ok = true;
		e = write_profile(&c, o);
	}
out:
	if (o && o->z_ok)
		deflateEnd(&o->z);
	if (o)
		free(o->msg);
	free(o);
	if (r)
		free(r->stack);
	free(r);
	strtab_free(&c.str);
	free(c.nodes);
	free(c.slots);
	free(c.edges);
	return e;
}
