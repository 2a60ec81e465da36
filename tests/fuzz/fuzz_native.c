/* Round trip of the Native block encoder. Its input is never outside bytes (the writer's own
 * RowBinary batches; spool replays are posted as RowBinary), so this is not a parser fuzz: it
 * checks, on arbitrary batches, the two things the writer relies on.
 *  - What is not whole rows of the table (String lengths past the end, short rows, a row count
 *    that does not match) is refused without reading past the input (the copy is exact-size, so
 *    ASan sees any over-read) or writing past the output buffer.
 *  - A block it accepts is lossless: decoding it here (the Native layout, independently of
 *    native.c: varint columns and rows, per column name, type and values) and transposing back
 *    gives the input bytes exactly, with the schema's column names and types in order.
 * First byte: table (bit 0) and row count (the rest). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/st.h"
#include "storage/st_int.h"

static int get_varint(const uint8_t *p, size_t len, size_t *at, uint64_t *v)
{
	*v = 0;
	for (int i = 0; i < 10 && *at < len; i++) {
		uint8_t b = p[(*at)++];
		*v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

/* Bytes of the value of type t at p[at..len): fixed width, or a String's varint + bytes. */
static size_t value_len(const char *t, size_t tl, const uint8_t *p, size_t len, size_t at)
{
	static const struct { const char *n; size_t w; } fixed[] = {
		{"UInt8", 1}, {"UInt16", 2}, {"UInt32", 4}, {"UInt64", 8}, {"Date", 2},
		{"DateTime", 4}, {"Float64", 8}, {"FixedString(16)", 16},
	};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (strlen(fixed[i].n) == tl && !memcmp(t, fixed[i].n, tl))
			return fixed[i].w;
	if (tl == 6 && !memcmp(t, "String", 6)) {
		size_t a = at;
		uint64_t n;
		if (get_varint(p, len, &a, &n) || n > len - a)
			abort(); /* the encoder wrote a String that does not fit its own block */
		return a - at + (size_t)n;
	}
	abort(); /* a type the schema does not use */
}

static const uint8_t *get_string(const uint8_t *p, size_t len, size_t *at, size_t *n)
{
	uint64_t v;
	if (get_varint(p, len, at, &v) || v > len - *at)
		abort();
	const uint8_t *s = p + *at;
	*at += (size_t)v;
	*n = (size_t)v;
	return s;
}

/* Decodes block b and transposes it back into RowBinary rows in out; aborts on anything wrong. */
static size_t decode(int table, const uint8_t *b, size_t blen, uint32_t nrows, uint8_t *out, size_t cap)
{
	const struct st_column *cols;
	size_t ncols = st_schema_columns((enum st_table)table, &cols);
	size_t at = 0;
	uint64_t nc, nr;
	if (get_varint(b, blen, &at, &nc) || get_varint(b, blen, &at, &nr) || nc != ncols || nr != nrows)
		abort();
	/* per column: where its values start in b; rows are then rebuilt column after column */
	size_t *cur = calloc(ncols, sizeof *cur);
	const uint8_t **type = calloc(ncols, sizeof *type);
	size_t *tlen = calloc(ncols, sizeof *tlen);
	if (!cur || !type || !tlen)
		abort();
	for (size_t c = 0; c < ncols; c++) {
		size_t n;
		const uint8_t *name = get_string(b, blen, &at, &n);
		if (n != strlen(cols[c].name) || memcmp(name, cols[c].name, n))
			abort();
		type[c] = get_string(b, blen, &at, &tlen[c]);
		if (tlen[c] != strlen(cols[c].type) || memcmp(type[c], cols[c].type, tlen[c]))
			abort();
		cur[c] = at;
		for (uint32_t r = 0; r < nrows; r++)
			at += value_len((const char *)type[c], tlen[c], b, blen, at);
		if (at > blen)
			abort();
	}
	if (at != blen)
		abort(); /* trailing bytes after the last column */
	size_t o = 0;
	for (uint32_t r = 0; r < nrows; r++)
		for (size_t c = 0; c < ncols; c++) {
			size_t n = value_len((const char *)type[c], tlen[c], b, blen, cur[c]);
			if (n > cap - o)
				abort();
			memcpy(out + o, b + cur[c], n);
			o += n;
			cur[c] += n;
		}
	free(cur);
	free(type);
	free(tlen);
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	int table = data[0] & 1;
	uint32_t nrows = data[0] >> 1;
	size_t len = size - 1;
	uint8_t *copy = malloc(len ? len : 1);
	uint32_t *pos = malloc((nrows ? nrows : 1) * sizeof *pos);
	size_t cap = len + 4096;
	uint8_t *out = malloc(cap);
	uint8_t *back = malloc(len + 1);
	if (!copy || !pos || !out || !back)
		abort();
	memcpy(copy, data + 1, len);
	struct wbuf w = wbuf_init(out, cap);
	int rc = st_native_block(&w, table, copy, len, nrows, pos);
	if (rc == 0) {
		if (w.err || decode(table, w.p, w.len, nrows, back, len + 1) != len || memcmp(back, copy, len))
			abort();
		/* too small an output buffer: refused, never overrun */
		struct wbuf s = wbuf_init(out, len / 2);
		if (len && st_native_block(&s, table, copy, len, nrows, pos) == 0)
			abort();
	}
	free(copy);
	free(pos);
	free(out);
	free(back);
	return 0;
}
