/*
 * The benchmark's side of gpuvmd's control protocol (fairness.h): one
 * connection for the whole run, JSON requests built and replies parsed
 * with the protocol helpers of dom0-daemon/control_proto.h.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control_proto.h"
#include "fairness.h"

#define CALL_TIMEOUT_MS 30000

int fx_ctl_connect(struct fx_ctl *c, const char *sock, int timeout_ms, pid_t daemon,
		   char *err, size_t errlen)
{
	double end = fx_now() + timeout_ms / 1e3;
	int status;

	c->sock = sock;
	c->fd = -1;
	for (;;) {
		c->fd = ctl_client_connect(sock, err, errlen);
		if (c->fd >= 0)
			return 0;
		if (fx_reap(daemon, &status)) {
			snprintf(err, errlen, "gpuvmd exited before its socket was ready");
			return -1;
		}
		if (fx_signal || fx_now() >= end)
			return -1;
		fx_sleep_ms(20);
	}
}

void fx_ctl_close(struct fx_ctl *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Send one JSON request object (taking it); the ok reply in *reply.  0 or -1. */
static int call(struct fx_ctl *c, struct json_object *req, struct json_object **reply,
		char *err, size_t errlen)
{
	const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	char *line = NULL, *answer = NULL;
	int r = -1;

	*reply = NULL;
	if (text && asprintf(&line, "%s\n", text) > 0 &&
	    !ctl_client_call(c->fd, line, &answer, CALL_TIMEOUT_MS, err, errlen))
		r = ctl_reply_parse(answer, strlen(answer), reply, err, errlen) ? -1 : 0;
	else if (!text)
		snprintf(err, errlen, "out of memory");
	free(line);
	free(answer);
	json_object_put(req);
	return r;
}

int fx_ctl_create(struct fx_ctl *c, const struct fx_config *cfg, char *err, size_t errlen)
{
	for (unsigned i = 0; i < cfg->nvms; i++) {
		const struct fx_vm_cfg *vm = &cfg->vm[i];
		struct json_object *req = json_object_new_object(), *reply;
		char why[CTL_ERR_MAX];

		json_object_object_add(req, "op", json_object_new_string("create"));
		json_object_object_add(req, "name", json_object_new_string(vm->name));
		json_object_object_add(req, "vram", json_object_new_string("64M"));
		json_object_object_add(req, "channels", json_object_new_int(2));
		json_object_object_add(req, "mode", json_object_new_string(cfg->mode));
		json_object_object_add(req, "weight", json_object_new_int((int)vm->weight));
		json_object_object_add(req, "cap", json_object_new_int((int)vm->cap));
		if (call(c, req, &reply, why, sizeof(why))) {
			snprintf(err, errlen, "creating vGPU %s: %s", vm->name, why);
			return -1;
		}
		json_object_put(reply);
	}
	return 0;
}

static double num(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : 0;
}

int fx_ctl_sample(struct fx_ctl *c, const struct fx_config *cfg, struct fx_sample *out,
		  char *err, size_t errlen)
{
	struct json_object *req = json_object_new_object(), *reply, *g, *arr;

	json_object_object_add(req, "op", json_object_new_string("stats"));
	if (call(c, req, &reply, err, errlen))
		return -1;
	memset(out, 0, sizeof(*out));
	if (!json_object_object_get_ex(reply, "sched", &g) ||
	    !json_object_object_get_ex(reply, "vgpus", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		snprintf(err, errlen, "stats reply without sched or vgpus");
		json_object_put(reply);
		return -1;
	}
	out->t = (double)ctl_json_u64(g, "uptime_ns") / 1e9;
	out->busy_ns = ctl_json_u64(g, "busy_ns");
	out->decisions = ctl_json_u64(g, "decisions");
	out->decision_ns = ctl_json_u64(g, "decision_ns");
	out->releases = ctl_json_u64(g, "releases");
	for (size_t k = 0; k < json_object_array_length(arr); k++) {
		struct json_object *e = json_object_array_get_idx(arr, k);
		const char *name = ctl_json_str(e, "name");

		for (unsigned i = 0; name && i < cfg->nvms; i++) {
			if (strcmp(name, cfg->vm[i].name))
				continue;
			out->gpu_ns[i] = ctl_json_u64(e, "gpu_ns");
			out->vm_releases[i] = ctl_json_u64(e, "releases");
			out->wait_ns[i] = ctl_json_u64(e, "wait_ns");
			out->queued[i] = (unsigned)num(e, "queued");
			out->in_flight[i] = (unsigned)num(e, "in_flight");
		}
	}
	json_object_put(reply);
	return 0;
}

int fx_ctl_shutdown(struct fx_ctl *c)
{
	struct json_object *req = json_object_new_object(), *reply;
	char err[CTL_ERR_MAX];

	if (c->fd < 0) {
		json_object_put(req);
		return -1;
	}
	json_object_object_add(req, "op", json_object_new_string("shutdown"));
	if (call(c, req, &reply, err, sizeof(err)))
		return -1;
	json_object_put(reply);
	return 0;
}

int fx_samples_add(struct fx_samples *ss, const struct fx_sample *s)
{
	if (ss->n == ss->cap) {
		size_t cap = ss->cap ? ss->cap * 2 : 256;
		struct fx_sample *p = realloc(ss->s, cap * sizeof(*p));

		if (!p)
			return -1;
		ss->s = p;
		ss->cap = cap;
	}
	ss->s[ss->n++] = *s;
	return 0;
}
