/*
 * Scheduling controls of gpuvmd: the sched, sched-credit and stats ops of
 * the control protocol, create's weight and cap, and the gpuvmctl
 * commands on top of them (sched, sched-credit, stats, top), against an
 * in-process daemon.  Bad input is an error that changes nothing.
 * gpuvmctl's main() is compiled in under another name, as in
 * test_gpuvmctl.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define main gpuvmctl_main
#include "cmd/gpuvmctl.c"
#undef main

#include "util_daemon.h"

struct ctl_run {
	int argc;
	char *argv[16];
};

static int run_main(void *arg)
{
	struct ctl_run *r = arg;

	return gpuvmctl_main(r->argc, r->argv);
}

/* gpuvmctl --socket sock ARGS... (NULL-terminated); output in *out / *err (NULL: ignore). */
static int ctl(const char *sock, char **out, char **err, ...)
{
	struct ctl_run r = { 0 };
	char *o, *e;
	va_list ap;
	const char *a;
	int rc;

	r.argv[r.argc++] = (char *)"gpuvmctl";
	r.argv[r.argc++] = (char *)"--socket";
	r.argv[r.argc++] = (char *)sock;
	va_start(ap, err);
	while (r.argc < 15 && (a = va_arg(ap, const char *)))
		r.argv[r.argc++] = (char *)a;
	va_end(ap);
	rc = t_capture(run_main, &r, &o, &e);
	if (out)
		*out = o;
	else
		free(o);
	if (err)
		*err = e;
	else
		free(e);
	return rc;
}

static void assert_contains(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("'%s' not in:\n%s", want, text);
}

static int setup(void **state)
{
	*state = td_start(NULL, NULL);
	return 0;
}

static int teardown(void **state)
{
	td_free(*state);
	return 0;
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no '%s' in %s", key, json_object_to_json_string(o));
	return v;
}

/* The sched op's reply with nothing set, as text (to compare before/after). */
static char *sched_state(struct tdaemon *t)
{
	struct json_object *a = td_ok(t, "{\"op\":\"sched\"}\n");
	struct json_object *b = td_ok(t, "{\"op\":\"sched-credit\"}\n");
	char *s, *l = td_state(t);

	assert_true(asprintf(&s, "%s %s %s", json_object_to_json_string(a),
			     json_object_to_json_string(b), l) > 0);
	json_object_put(a);
	json_object_put(b);
	free(l);
	return s;
}

/* ---- Protocol ---------------------------------------------------------------------- */

static void test_version_lists_ops(void **state)
{
	struct json_object *r = td_ok(*state, "{\"op\":\"version\"}\n");
	const char *text = json_object_to_json_string(get(r, "ops"));

	assert_contains(text, "\"sched\"");
	assert_contains(text, "\"sched-credit\"");
	assert_contains(text, "\"stats\"");
	json_object_put(r);
}

static void test_sched_show_and_set(void **state)
{
	struct tdaemon *t = *state;
	struct json_object *r = td_ok(t, "{\"op\":\"sched\"}\n");

	assert_string_equal(ctl_json_str(r, "policy"), "credit");
	assert_int_equal(ctl_json_u64(r, "period_ns"), 30000000);
	assert_int_equal(ctl_json_u64(r, "tick_ns"), 10000000);
	assert_int_equal(ctl_json_u64(r, "tslice_ns"), 10000000);
	assert_string_equal(json_object_to_json_string(get(r, "policies")),
			    "[ \"direct\", \"fifo\", \"credit\", \"band\" ]");
	json_object_put(r);

	/* Names are matched without regard to case, and every policy can be switched in. */
	r = td_ok(t, "{\"op\":\"sched\",\"policy\":\"BAND\"}\n");
	assert_string_equal(ctl_json_str(r, "policy"), "band");
	json_object_put(r);
	for (const char *const *p = (const char *const[]){ "fifo", "direct", "credit", NULL }; *p; p++) {
		char req[96];

		snprintf(req, sizeof(req), "{\"op\":\"sched\",\"policy\":\"%s\"}\n", *p);
		r = td_ok(t, req);
		assert_string_equal(ctl_json_str(r, "policy"), *p);
		json_object_put(r);
	}

	r = td_ok(t, "{\"op\":\"sched\",\"period_ms\":60,\"tick_ms\":20,\"tslice_ms\":5}\n");
	assert_int_equal(ctl_json_u64(r, "period_ns"), 60000000);
	assert_int_equal(ctl_json_u64(r, "tick_ns"), 20000000);
	assert_int_equal(ctl_json_u64(r, "tslice_ns"), 5000000);
	json_object_put(r);
	/* One parameter alone leaves the others as they are. */
	r = td_ok(t, "{\"op\":\"sched\",\"policy\":\"band\",\"tslice_ms\":7}\n");
	assert_string_equal(ctl_json_str(r, "policy"), "band");
	assert_int_equal(ctl_json_u64(r, "period_ns"), 60000000);
	assert_int_equal(ctl_json_u64(r, "tslice_ns"), 7000000);
	json_object_put(r);
}

static void test_sched_bad_requests_change_nothing(void **state)
{
	static const struct {
		const char *req, *want;
	} cases[] = {
		{ "{\"op\":\"sched\",\"policy\":\"lottery\"}", "unknown scheduling policy 'lottery'" },
		{ "{\"op\":\"sched\",\"policy\":3}", "field 'policy' must be a string" },
		{ "{\"op\":\"sched\",\"policy\":\"creditcreditcredit\"}", "unknown scheduling policy" },
		{ "{\"op\":\"sched\",\"period_ms\":0}", "period_ms must be 1..10000 (got 0)" },
		{ "{\"op\":\"sched\",\"period_ms\":10001}", "period_ms must be 1..10000" },
		{ "{\"op\":\"sched\",\"tick_ms\":1001}", "tick_ms must be 1..1000" },
		{ "{\"op\":\"sched\",\"tslice_ms\":-5}", "tslice_ms must be 1..1000 (got -5)" },
		{ "{\"op\":\"sched\",\"tslice_ms\":\"10\"}", "field 'tslice_ms' must be an integer" },
		{ "{\"op\":\"sched\",\"tslice_ms\":2.5}", "field 'tslice_ms' must be an integer" },
		{ "{\"op\":\"sched\",\"tick_ms\":40,\"period_ms\":30}", "must not exceed period_ms" },
		/* Only the tick is given: checked against the period in force (30 ms). */
		{ "{\"op\":\"sched\",\"policy\":\"fifo\",\"tick_ms\":31}", "must not exceed the period (30 ms)" },
		{ "{\"op\":\"sched\",\"name\":\"x\"}", "unknown field 'name' for op 'sched'" },
		{ "{\"op\":\"sched\",\"weight\":5}", "unknown field 'weight' for op 'sched'" },
		{ "{\"op\":\"sched-credit\",\"weight\":512}", "needs the vGPU's 'name'" },
		{ "{\"op\":\"sched-credit\",\"cap\":10}", "needs the vGPU's 'name'" },
		{ "{\"op\":\"sched-credit\",\"name\":\"ghost\",\"weight\":512}", "no vGPU named 'ghost'" },
		{ "{\"op\":\"sched-credit\",\"name\":\"ghost\",\"tslice_ms\":3}", "no vGPU named 'ghost'" },
		{ "{\"op\":\"sched-credit\",\"name\":\"a\",\"weight\":0}", "weight must be 1..65535 (got 0)" },
		{ "{\"op\":\"sched-credit\",\"name\":\"a\",\"weight\":65536}", "weight must be 1..65535" },
		{ "{\"op\":\"sched-credit\",\"name\":\"a\",\"weight\":\"big\"}", "field 'weight' must be an integer" },
		{ "{\"op\":\"sched-credit\",\"name\":\"a\",\"cap\":101}", "cap must be 0..100 percent" },
		{ "{\"op\":\"sched-credit\",\"name\":\"a\",\"cap\":-1}", "cap must be 0..100 percent" },
		{ "{\"op\":\"sched-credit\",\"name\":\"a\",\"period_ms\":20}", "unknown field 'period_ms'" },
		{ "{\"op\":\"sched-credit\",\"name\":\"a\",\"weight\":5,\"tslice_ms\":0}", "tslice_ms must be 1..1000" },
		{ "{\"op\":\"stats\",\"name\":\"ghost\"}", "no vGPU named 'ghost'" },
		{ "{\"op\":\"stats\",\"verbose\":true}", "unknown field 'verbose' for op 'stats'" },
		{ "{\"op\":\"create\",\"name\":\"b\",\"weight\":0}", "weight must be 1..65535" },
		{ "{\"op\":\"create\",\"name\":\"b\",\"cap\":150}", "cap must be 0..100 percent" },
		{ "{\"op\":\"create\",\"name\":\"b\",\"cap\":true}", "field 'cap' must be an integer" },
		{ "{\"op\":\"create\",\"name\":\"b\",\"tslice_ms\":5}", "unknown field 'tslice_ms' for op 'create'" },
	};
	struct tdaemon *t = *state;
	char *before, *after;

	json_object_put(td_ok(t, "{\"op\":\"create\",\"name\":\"a\",\"vram\":\"16M\",\"weight\":300,"
			      "\"cap\":40}\n"));
	before = sched_state(t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char line[256];

		snprintf(line, sizeof(line), "%s\n", cases[i].req);
		td_err(t, line, cases[i].want);
	}
	after = sched_state(t);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void test_create_with_weight_and_cap(void **state)
{
	struct tdaemon *t = *state;
	struct json_object *r, *v;

	r = td_ok(t, "{\"op\":\"create\",\"name\":\"w\",\"vram\":\"16M\",\"weight\":512,\"cap\":25}\n");
	v = get(r, "vgpu");
	assert_int_equal(ctl_json_u64(v, "weight"), 512);
	assert_int_equal(ctl_json_u64(v, "cap"), 25);
	json_object_put(r);
	r = td_ok(t, "{\"op\":\"create\",\"name\":\"d\",\"vram\":\"16M\"}\n");
	v = get(r, "vgpu");
	assert_int_equal(ctl_json_u64(v, "weight"), 256);
	assert_int_equal(ctl_json_u64(v, "cap"), 0);
	json_object_put(r);
	r = td_ok(t, "{\"op\":\"info\",\"name\":\"w\"}\n");
	assert_int_equal(ctl_json_u64(get(r, "vgpu"), "weight"), 512);
	json_object_put(r);
}

static void test_sched_credit_show_and_set(void **state)
{
	struct tdaemon *t = *state;
	struct json_object *r, *arr, *e;

	json_object_put(td_ok(t, "{\"op\":\"create\",\"name\":\"a\",\"vram\":\"16M\"}\n"));
	json_object_put(td_ok(t, "{\"op\":\"create\",\"name\":\"b\",\"vram\":\"16M\",\"weight\":64}\n"));
	r = td_ok(t, "{\"op\":\"sched-credit\"}\n");
	assert_string_equal(ctl_json_str(r, "policy"), "credit");
	assert_int_equal(ctl_json_u64(r, "tslice_ns"), 10000000);
	arr = get(r, "vgpus");
	assert_int_equal(json_object_array_length(arr), 2);
	e = json_object_array_get_idx(arr, 1);
	assert_string_equal(ctl_json_str(e, "name"), "b");
	assert_int_equal(ctl_json_u64(e, "weight"), 64);
	assert_int_equal(ctl_json_u64(e, "id"), 2);
	json_object_put(r);

	/* Weight and cap of one VM; the other keeps its own. */
	r = td_ok(t, "{\"op\":\"sched-credit\",\"name\":\"a\",\"weight\":1024,\"cap\":30}\n");
	arr = get(r, "vgpus");
	assert_int_equal(json_object_array_length(arr), 1);
	e = json_object_array_get_idx(arr, 0);
	assert_int_equal(ctl_json_u64(e, "weight"), 1024);
	assert_int_equal(ctl_json_u64(e, "cap"), 30);
	json_object_put(r);
	r = td_ok(t, "{\"op\":\"sched-credit\",\"name\":\"a\",\"cap\":0}\n");
	e = json_object_array_get_idx(get(r, "vgpus"), 0);
	assert_int_equal(ctl_json_u64(e, "weight"), 1024);
	assert_int_equal(ctl_json_u64(e, "cap"), 0);
	json_object_put(r);
	r = td_ok(t, "{\"op\":\"sched-credit\",\"name\":\"b\"}\n");
	e = json_object_array_get_idx(get(r, "vgpus"), 0);
	assert_int_equal(ctl_json_u64(e, "weight"), 64);
	json_object_put(r);

	/* The global time slice, as xl sched-credit -t; the sched op sees it. */
	json_object_put(td_ok(t, "{\"op\":\"sched-credit\",\"tslice_ms\":4}\n"));
	r = td_ok(t, "{\"op\":\"sched\"}\n");
	assert_int_equal(ctl_json_u64(r, "tslice_ns"), 4000000);
	json_object_put(r);
	/* Weights survive a change of policy. */
	json_object_put(td_ok(t, "{\"op\":\"sched\",\"policy\":\"fifo\"}\n"));
	json_object_put(td_ok(t, "{\"op\":\"sched\",\"policy\":\"band\"}\n"));
	r = td_ok(t, "{\"op\":\"sched-credit\",\"name\":\"a\"}\n");
	assert_string_equal(ctl_json_str(r, "policy"), "band");
	assert_int_equal(ctl_json_u64(json_object_array_get_idx(get(r, "vgpus"), 0), "weight"), 1024);
	json_object_put(r);
}

static void test_stats_reply(void **state)
{
	static const char *const vm_keys[] = {
		"name", "id", "weight", "cap", "gpu_ns", "share_100ms", "share_1s", "queued",
		"in_flight", "submissions", "releases", "waits", "wait_ns", "credit_ns",
	};
	static const char *const global_keys[] = {
		"policy", "uptime_ns", "busy_ns", "utilization", "decisions", "decision_ns",
		"ns_per_decision", "releases", "ns_per_release", "period_ns", "tick_ns", "tslice_ns",
	};
	struct tdaemon *t = *state;
	struct json_object *r, *g, *arr, *e;

	r = td_ok(t, "{\"op\":\"stats\"}\n");
	assert_int_equal(json_object_array_length(get(r, "vgpus")), 0);
	json_object_put(r);
	json_object_put(td_ok(t, "{\"op\":\"create\",\"name\":\"s1\",\"vram\":\"16M\",\"weight\":7}\n"));
	json_object_put(td_ok(t, "{\"op\":\"create\",\"name\":\"s2\",\"vram\":\"16M\"}\n"));
	r = td_ok(t, "{\"op\":\"stats\"}\n");
	g = get(r, "sched");
	for (size_t i = 0; i < sizeof(global_keys) / sizeof(global_keys[0]); i++)
		get(g, global_keys[i]);
	assert_string_equal(ctl_json_str(g, "policy"), "credit");
	assert_true(ctl_json_u64(g, "uptime_ns") > 0);
	assert_int_equal(ctl_json_u64(g, "busy_ns"), 0);
	arr = get(r, "vgpus");
	assert_int_equal(json_object_array_length(arr), 2);
	e = json_object_array_get_idx(arr, 0);
	for (size_t i = 0; i < sizeof(vm_keys) / sizeof(vm_keys[0]); i++)
		get(e, vm_keys[i]);
	assert_string_equal(ctl_json_str(e, "name"), "s1");
	assert_int_equal(ctl_json_u64(e, "weight"), 7);
	assert_int_equal(ctl_json_u64(e, "gpu_ns"), 0);
	json_object_put(r);
	r = td_ok(t, "{\"op\":\"stats\",\"name\":\"s2\"}\n");
	arr = get(r, "vgpus");
	assert_int_equal(json_object_array_length(arr), 1);
	assert_string_equal(ctl_json_str(json_object_array_get_idx(arr, 0), "name"), "s2");
	json_object_put(r);
}

static void cfg_band(struct gpuvmd_config *cfg, void *arg)
{
	(void)arg;
	cfg->sched = "band";
	cfg->sched_params.period_ns = 40000000;
	cfg->sched_params.tslice_ns = 2000000;
}

/* gpuvmd --sched/--sched-*-ms end up in the host configuration. */
static void test_daemon_config(void **state)
{
	struct tdaemon *t = td_start(cfg_band, NULL);
	struct json_object *r = td_ok(t, "{\"op\":\"sched\"}\n");

	(void)state;
	assert_string_equal(ctl_json_str(r, "policy"), "band");
	assert_int_equal(ctl_json_u64(r, "period_ns"), 40000000);
	assert_int_equal(ctl_json_u64(r, "tick_ns"), 10000000);
	assert_int_equal(ctl_json_u64(r, "tslice_ns"), 2000000);
	json_object_put(r);
	td_free(t);
}

/* Encode and decode keep every scheduling field. */
static void test_request_roundtrip(void **state)
{
	struct ctl_request req, back;
	char err[CTL_ERR_MAX], *line;

	(void)state;
	ctl_request_init(&req, CTL_OP_SCHED);
	req.has_policy = req.has_period = req.has_tick = req.has_tslice = true;
	strcpy(req.policy, "band");
	req.period_ms = 100;
	req.tick_ms = 10;
	req.tslice_ms = 1;
	line = ctl_request_encode(&req);
	assert_non_null(line);
	assert_int_equal(ctl_request_decode(line, strlen(line) - 1, &back, err, sizeof(err)), 0);
	assert_string_equal(back.policy, "band");
	assert_true(back.has_period && back.has_tick && back.has_tslice);
	assert_int_equal(back.period_ms, 100);
	assert_int_equal(back.tick_ms, 10);
	assert_int_equal(back.tslice_ms, 1);
	free(line);

	ctl_request_init(&req, CTL_OP_CREATE);
	strcpy(req.name, "vm");
	req.has_weight = req.has_cap = true;
	req.weight = 65535;
	req.cap = 100;
	line = ctl_request_encode(&req);
	assert_int_equal(ctl_request_decode(line, strlen(line) - 1, &back, err, sizeof(err)), 0);
	assert_true(back.has_weight && back.has_cap);
	assert_int_equal(back.weight, 65535);
	assert_int_equal(back.cap, 100);
	free(line);
}

/* ---- gpuvmctl ------------------------------------------------------------------------ */

static void test_ctl_sched(void **state)
{
	struct tdaemon *t = *state;
	char *out;

	assert_int_equal(ctl(t->sock, &out, NULL, "sched", NULL), 0);
	assert_string_equal(out, "policy:   credit\nperiod:   30 ms\ntick:     10 ms\n"
			    "tslice:   10 ms\npolicies: direct fifo credit band\n");
	free(out);
	assert_int_equal(ctl(t->sock, &out, NULL, "sched", "fifo", "--tslice-ms", "3", NULL), 0);
	assert_contains(out, "policy:   fifo\n");
	assert_contains(out, "tslice:   3 ms\n");
	free(out);
	assert_int_equal(ctl(t->sock, &out, NULL, "sched", "-p", "50", "-k", "5", "Credit", NULL), 0);
	assert_contains(out, "policy:   credit\nperiod:   50 ms\ntick:     5 ms\n");
	free(out);
}

static void test_ctl_sched_credit(void **state)
{
	struct tdaemon *t = *state;
	char *out;

	assert_int_equal(ctl(t->sock, NULL, NULL, "create", "vm1", "--vram", "16M", "--weight",
			     "512", "--cap", "50", NULL), 0);
	assert_int_equal(ctl(t->sock, NULL, NULL, "create", "vm2", "--vram", "16M", "-w", "128",
			     NULL), 0);
	assert_int_equal(ctl(t->sock, &out, NULL, "sched-credit", NULL), 0);
	assert_contains(out, "Scheduler credit: tslice=10 ms period=30 ms\n");
	assert_contains(out, "Name                              ID Weight  Cap\n");
	assert_contains(out, "vm1                                1    512   50\n");
	assert_contains(out, "vm2                                2    128    0\n");
	free(out);
	/* Setting prints nothing, like xl. */
	assert_int_equal(ctl(t->sock, &out, NULL, "sched-credit", "-d", "vm2", "-w", "1000", "-c",
			     "20", NULL), 0);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(ctl(t->sock, &out, NULL, "sched-credit", "-d", "vm2", NULL), 0);
	assert_contains(out, "vm2                                2   1000   20\n");
	assert_null(strstr(out, "vm1"));
	free(out);
	assert_int_equal(ctl(t->sock, NULL, NULL, "sched-credit", "-t", "25", NULL), 0);
	assert_int_equal(ctl(t->sock, &out, NULL, "sched-credit", "--domain", "vm1", NULL), 0);
	assert_contains(out, "tslice=25 ms");
	free(out);
	assert_int_equal(ctl(t->sock, &out, NULL, "info", "vm2", NULL), 0);
	assert_contains(out, "weight:         1000\n");
	assert_contains(out, "cap:            20\n");
	free(out);
}

static void test_ctl_stats_and_top(void **state)
{
	struct tdaemon *t = *state;
	struct json_object *o;
	char *out;

	assert_int_equal(ctl(t->sock, NULL, NULL, "create", "vm1", "--vram", "16M", NULL), 0);
	assert_int_equal(ctl(t->sock, &out, NULL, "stats", NULL), 0);
	assert_contains(out, "gpuvmd: policy credit, tslice 10 ms | uptime ");
	assert_contains(out, "NAME ");
	assert_contains(out, "GPU%");
	assert_contains(out, "100ms%");
	assert_contains(out, "QUEUE");
	assert_contains(out, "\nvm1 ");
	free(out);
	assert_int_equal(ctl(t->sock, &out, NULL, "stats", "--json", "vm1", NULL), 0);
	o = json_tokener_parse(out);
	assert_non_null(o);
	assert_true(ctl_json_bool(o, "ok"));
	assert_int_equal(json_object_array_length(get(o, "vgpus")), 1);
	json_object_put(o);
	free(out);
	/* --json on its own does not stick to later commands run in this process. */
	assert_int_equal(ctl(t->sock, &out, NULL, "stats", NULL), 0);
	assert_contains(out, "NAME ");
	free(out);

	/* Not a terminal: frames are separated by a blank line, no screen clearing. */
	assert_int_equal(ctl(t->sock, &out, NULL, "top", "-n", "3", "--delay", "0.05", NULL), 0);
	assert_null(strstr(out, "\033["));
	{
		int frames = 0;

		for (const char *p = out; (p = strstr(p, "gpuvmd: policy")); p++)
			frames++;
		assert_int_equal(frames, 3);
	}
	assert_contains(out, "(since last frame)");
	free(out);
	assert_int_equal(ctl(t->sock, &out, NULL, "--json", "top", "--iterations", "2", "-d",
			     "0.05", NULL), 0);
	assert_non_null(strchr(out, '\n'));
	o = json_tokener_parse(strchr(out, '\n') + 1);
	assert_non_null(o);
	get(o, "sched");
	json_object_put(o);
	free(out);
}

static void test_ctl_usage_errors(void **state)
{
	static const struct {
		const char *args[8];
		const char *want;
	} cases[] = {
		{ { "sched", "lottery", NULL }, "unknown scheduling policy 'lottery'" },
		{ { "sched", "credit", "band", NULL }, "unexpected argument 'band'" },
		{ { "sched", "--tslice-ms", "0", NULL }, "tslice_ms must be 1..1000" },
		{ { "sched", "--period-ms", "x", NULL }, "invalid period_ms 'x'" },
		{ { "sched", "-k", "40", "-p", "30", NULL }, "--tick-ms must not exceed --period-ms" },
		{ { "sched-credit", "-w", "512", NULL }, "need a vGPU: -d NAME" },
		{ { "sched-credit", "-d", "a b", NULL }, "invalid character ' '" },
		{ { "sched-credit", "-d", "a", "-w", "0", NULL }, "weight must be 1..65535" },
		{ { "sched-credit", "-d", "a", "-c", "101", NULL }, "cap must be 0..100" },
		{ { "sched-credit", "-d", "a", "-c", "5%", NULL }, "invalid cap '5%'" },
		{ { "sched-credit", "extra", NULL }, "unexpected argument 'extra'" },
		{ { "create", "x", "--weight", "70000", NULL }, "weight must be 1..65535" },
		{ { "create", "x", "--cap", "-3", NULL }, "cap must be 0..100" },
		{ { "stats", "a", "b", NULL }, "unexpected argument 'b'" },
		{ { "top", "-n", "0", NULL }, "iterations must be at least 1" },
		{ { "top", "-d", "soon", NULL }, "invalid delay 'soon'" },
		{ { "top", "-d", "0", NULL }, "invalid delay '0'" },
		{ { "top", "vm1", NULL }, "unexpected argument 'vm1'" },
	};
	struct tdaemon *t = *state;
	char *before = sched_state(t), *after;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ctl_run r = { 0 };
		char *out, *err;
		int rc;

		r.argv[r.argc++] = (char *)"gpuvmctl";
		r.argv[r.argc++] = (char *)"--socket";
		r.argv[r.argc++] = t->sock;
		for (const char *const *a = cases[i].args; *a; a++)
			r.argv[r.argc++] = (char *)*a;
		rc = t_capture(run_main, &r, &out, &err);
		if (rc != 2)
			fail_msg("case %zu: exit %d, stderr %s", i, rc, err);
		assert_contains(err, cases[i].want);
		free(out);
		free(err);
	}
	after = sched_state(t);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void test_ctl_daemon_errors(void **state)
{
	struct tdaemon *t = *state;
	char *err;

	assert_int_equal(ctl(t->sock, NULL, &err, "sched-credit", "-d", "ghost", "-w", "5", NULL), 1);
	assert_contains(err, "no vGPU named 'ghost'");
	free(err);
	assert_int_equal(ctl(t->sock, NULL, &err, "stats", "ghost", NULL), 1);
	assert_contains(err, "no vGPU named 'ghost'");
	free(err);
	/* The tick checked against the period in force. */
	assert_int_equal(ctl(t->sock, NULL, &err, "sched", "--tick-ms", "100", NULL), 1);
	assert_contains(err, "must not exceed the period (30 ms)");
	free(err);
	assert_int_equal(ctl("/nonexistent/gpuvmd.sock", NULL, &err, "top", "-n", "1", NULL), 1);
	assert_contains(err, "is gpuvmd running?");
	free(err);
}

static void test_ctl_help(void **state)
{
	char *out;

	(void)state;
	assert_int_equal(ctl("/nonexistent", &out, NULL, "--help", NULL), 0);
	assert_contains(out, "sched [POLICY]");
	assert_contains(out, "sched-credit [-d NAME] [-w WEIGHT] [-c CAP] [-t TSLICE_MS]");
	assert_contains(out, "stats [NAME] [--json]");
	assert_contains(out, "top [-n N] [-d SECONDS]");
	free(out);
	assert_int_equal(ctl("/nonexistent", &out, NULL, "top", "--help", NULL), 0);
	assert_contains(out, "--iterations N");
	free(out);
	assert_int_equal(ctl("/nonexistent", &out, NULL, "create", "--help", NULL), 0);
	assert_contains(out, "--weight W");
	assert_contains(out, "--cap C");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_version_lists_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sched_show_and_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sched_bad_requests_change_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_with_weight_and_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sched_credit_show_and_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats_reply, setup, teardown),
		cmocka_unit_test(test_daemon_config),
		cmocka_unit_test(test_request_roundtrip),
		cmocka_unit_test_setup_teardown(test_ctl_sched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_sched_credit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_stats_and_top, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_usage_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_daemon_errors, setup, teardown),
		cmocka_unit_test(test_ctl_help),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
