/* ClickHouse's Native format: one block of a batch, built from the batch's RowBinary rows.
 *
 * A Native block, as ClickHouse's HTTP interface reads it (`INSERT ... FORMAT Native`, no block
 * info: that is only on its TCP protocol): the number of columns and of rows as LEB128 varints,
 * then per column its name and its type as Strings (varint length + bytes) and its values back to
 * back, each as RowBinary would write it (fixed-width little-endian, FixedString(N) its N bytes,
 * String varint length + bytes). It is RowBinary transposed: the server then reads each column
 * with one loop instead of parsing row by row, column by column.
 *
 * The writer keeps encoding RowBinary (the spool and the files stay RowBinary, loadable by hand)
 * and transposes a due batch into a Native body only to post it. A flows row is fixed-width (no
 * String column), so a value's place is row * width + column offset; attack_events rows carry
 * Strings, so one pass first finds where each row starts (pos) and the columns then advance
 * each row's cursor. Input is our own encoder's, but it is still checked: a batch that does not
 * parse as whole rows of the schema is refused, never read past. */
#include <stdlib.h>
#include <string.h>

#include "st_int.h"

#define MAX_COLS 32

/* Bytes of one value of a fixed-width type; -1 for String (variable), -2 for a type we never use */
static int type_width(const char *t)
{
	static const struct {
		const char *name;
		int width;
	} fixed[] = {
		{"UInt8", 1}, {"UInt16", 2}, {"UInt32", 4}, {"UInt64", 8}, {"Int32", 4}, {"Date", 2},
		{"DateTime", 4}, {"Float64", 8}, {"String", -1},
	};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (!strcmp(t, fixed[i].name))
			return fixed[i].width;
	if (!strncmp(t, "FixedString(", 12)) {
		int n = atoi(t + 12);
		return n > 0 && n <= 256 ? n : -2;
	}
	return -2;
}

static void put_varint(struct wbuf *w, uint64_t v)
{
	do {
		uint8_t b = v & 0x7f;
		v >>= 7;
		wbuf_u8(w, v ? (uint8_t)(b | 0x80) : b);
	} while (v);
}

static void put_string(struct wbuf *w, const char *s)
{
	size_t n = strlen(s);
	put_varint(w, n);
	wbuf_bytes(w, s, n);
}

/* Length of a String value at p (varint + bytes), within len; 0 if it does not fit. */
static size_t string_len(const uint8_t *p, size_t len)
{
	uint64_t n = 0;
	for (size_t i = 0; i < len && i < 10; i++) {
		n |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80))
			return n <= len - i - 1 ? i + 1 + (size_t)n : 0;
	}
	return 0;
}

/* One column's values of rows [r0, r1): a copy of constant size the compiler can inline. */
#define COPY_COL(W)                                                                          \
	for (uint32_t r = r0; r < r1; r++)                                                   \
		memcpy(dst + (size_t)r * (W), src + (size_t)r * rowlen, (W))

/* Fixed-width rows (flows): every column's place in out is known up front, so the rows are
 * copied in tiles of TILE rows (~114 KB of flows, in L2) into all columns at once; one pass over
 * the batch instead of one per column. */
#define TILE 1024u
static int fixed_columns(struct wbuf *out, const struct st_column *cols, const int *width, size_t ncols,
			 const uint8_t *rows, size_t rowlen, uint32_t nrows, unsigned feat)
{
	size_t at[MAX_COLS];
	for (size_t c = 0; c < ncols; c++) {
		put_string(out, cols[c].name);
		put_string(out, st_column_wire_type(&cols[c], feat));
		size_t n = (size_t)width[c] * nrows;
		if (!wbuf_room(out, n))
			return -1;
		at[c] = out->len;
		out->len += n;
	}
	for (uint32_t r0 = 0; r0 < nrows; r0 += TILE) {
		uint32_t r1 = nrows - r0 > TILE ? r0 + TILE : nrows;
		size_t coloff = 0;
		for (size_t c = 0; c < ncols; c++) {
			uint8_t *dst = out->p + at[c];
			const uint8_t *src = rows + coloff;
			switch (width[c]) {
			case 1: COPY_COL(1); break;
			case 2: COPY_COL(2); break;
			case 4: COPY_COL(4); break;
			case 8: COPY_COL(8); break;
			case 16: COPY_COL(16); break;
			default: {
				size_t wd = (size_t)width[c];
				for (uint32_t r = r0; r < r1; r++)
					memcpy(dst + r * wd, src + (size_t)r * rowlen, wd);
			}
			}
			coloff += (size_t)width[c];
		}
	}
	return 0;
}

/* Whether rows/len is exactly nrows rows of table t's columns up to schema version v. */
static bool rows_parse(enum st_table t, unsigned v, const uint8_t *rows, size_t len, uint32_t nrows)
{
	const struct st_column *cols;
	size_t ncols = st_schema_columns(t, &cols);
	size_t p = 0;
	for (uint32_t r = 0; r < nrows; r++)
		for (size_t c = 0; c < ncols; c++) {
			if (cols[c].since > v)
				continue;
			int wd = type_width(cols[c].type);
			size_t n = wd >= 0 ? (size_t)wd : wd == -1 ? string_len(rows + p, len - p) : 0;
			if (!n || n > len - p)
				return false;
			p += n;
		}
	return p == len;
}

unsigned st_rows_version(enum st_table t, const uint8_t *rows, size_t len, uint32_t nrows)
{
	for (unsigned v = st_schema_latest(); v >= 2; v--)
		if (rows_parse(t, v, rows, len, nrows))
			return v;
	return 0;
}

int st_native_block(struct wbuf *out, int table, const uint8_t *rows, size_t len, uint32_t nrows,
		    uint32_t *pos)
{
	return st_native_block_shape(out, table, rows, len, nrows, pos, 0);
}

/* The columns are named by the types of the database's shape: an IPv6 column as IPv6 (its
 * values are the FixedString(16) bytes as they are), a LowCardinality(String) as String. */
int st_native_block_shape(struct wbuf *out, int table, const uint8_t *rows, size_t len, uint32_t nrows,
			  uint32_t *pos, unsigned feat)
{
	if (table < 0 || table >= ST_NTABLES)
		return -1;
	const struct st_column *cols;
	size_t ncols = st_schema_columns((enum st_table)table, &cols);
	int width[MAX_COLS];
	size_t rowlen = 0;
	bool fixed = true;
	if (ncols > MAX_COLS)
		return -1;
	for (size_t c = 0; c < ncols; c++) {
		width[c] = type_width(cols[c].type);
		if (width[c] == -2)
			return -1;
		if (width[c] < 0)
			fixed = false;
		else
			rowlen += (size_t)width[c];
	}
	if (fixed) {
		if (len != rowlen * nrows)
			return -1;
	} else {
		if (!pos)
			return -1;
		size_t p = 0;
		for (uint32_t r = 0; r < nrows; r++) {
			if (p > UINT32_MAX)
				return -1;
			pos[r] = (uint32_t)p;
			for (size_t c = 0; c < ncols; c++) {
				size_t n = width[c] >= 0 ? (size_t)width[c] : string_len(rows + p, len - p);
				if (!n || n > len - p)
					return -1;
				p += n;
			}
		}
		if (p != len)
			return -1;
	}

	put_varint(out, ncols);
	put_varint(out, nrows);
	if (fixed)
		return fixed_columns(out, cols, width, ncols, rows, rowlen, nrows, feat);
	for (size_t c = 0; c < ncols; c++) {
		put_string(out, cols[c].name);
		put_string(out, st_column_wire_type(&cols[c], feat));
		for (uint32_t r = 0; r < nrows; r++) {
			/* pos[r] was checked above: each value lies within len */
			size_t n = width[c] >= 0 ? (size_t)width[c] : string_len(rows + pos[r], len - pos[r]);
			wbuf_bytes(out, rows + pos[r], n);
			pos[r] += (uint32_t)n;
		}
	}
	return out->err ? -1 : 0;
}
