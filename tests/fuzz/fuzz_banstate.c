/* The ban state file parser on arbitrary bytes: never a crash, bounded, and every ban it accepts
 * is written back by mit_state_format_ban to a line that parses to the same ban. */
#include <event2/buffer.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* the format's file only: the rest of the daemon is not in the fuzz library */
#include "../../mitigation/state_file.c"

struct fz {
	size_t n;
	const struct mit_state_ban *want;
	bool same;
};

static void again(void *ctx, const struct mit_state_rec *r)
{
	struct fz *z = ctx;
	const struct mit_state_ban *a = &r->ban, *b = z->want;
	z->same = r->kind == MIT_STATE_BAN && a->attack_id == b->attack_id && ip_prefix_equal(&a->target, &b->target) &&
		  a->direction == b->direction && !strcmp(a->group, b->group) && a->manual == b->manual &&
		  a->since_ns == b->since_ns && a->until_ns == b->until_ns && a->trigger_class == b->trigger_class &&
		  a->trigger_metric == b->trigger_metric && a->trigger_value == b->trigger_value &&
		  a->trigger_limit == b->trigger_limit && a->parent_attack_id == b->parent_attack_id && a->mit == b->mit &&
		  (a->mit == MIT_STATE_BLACKHOLE || fs_rule_equal(&a->rule, &b->rule));
}

static void on_rec(void *ctx, const struct mit_state_rec *r)
{
	struct fz *z = ctx;
	z->n++;
	if (r->line < 2)
		abort();
	if (r->kind == MIT_STATE_ROUTE || r->kind == MIT_STATE_FLOW) {
		if (!r->text || strlen(r->text) > BGP_EXA_LINE_MAX || (r->src != MIT_SRC_OPERATOR && r->src != MIT_SRC_API))
			abort();
		return;
	}
	if (r->kind != MIT_STATE_BAN)
		return;
	if (!r->ban.attack_id || r->ban.until_ns < r->ban.since_ns)
		abort();
	struct evbuffer *b = evbuffer_new();
	if (!b)
		return;
	evbuffer_add_printf(b, MIT_STATE_HEADER " %d\n", MIT_STATE_VERSION); /* what the writer writes */
	mit_state_format_ban(b, &r->ban);
	evbuffer_add_printf(b, "end 1\n");
	size_t n = evbuffer_get_length(b);
	char *s = (char *)evbuffer_pullup(b, -1);
	struct fz z2 = {.want = &r->ban};
	struct mit_state_result res;
	if (mit_state_parse(s, n, again, NULL, &z2, &res) != 0 || res.records != 1 || !res.complete || !z2.same)
		abort();
	evbuffer_free(b);
}

static void on_err(void *ctx, size_t line, const char *why)
{
	(void)ctx, (void)line;
	if (!why || !why[0])
		abort(); /* every refusal says why */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	struct fz z = {0};
	struct mit_state_result res;
	int rc = mit_state_parse((const char *)data, size, on_rec, on_err, &z, &res);
	if (rc != 0 && z.n)
		abort();
	if (z.n != res.records)
		abort();
	return 0;
}
