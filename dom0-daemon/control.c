/*
 * The control socket server (control.h): listening socket, per-client
 * buffers and peer checks, and the ops of the protocol.
 *
 * A request is handled to completion on the control thread before the
 * next one: lifecycle calls on the vGPU core are made from this thread
 * only, as vgpu.h requires.
 */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "control_proto.h"
#include "daemon.h"
#include "log.h"
#include "sched_policy.h"

/* Stop reading a client's requests while this much of its output waits. */
#define CLIENT_OUT_HIGH (256u << 10)
/* Accepts per wake-up, so a connection storm cannot starve the rest of the loop. */
#define ACCEPT_BURST 16
#define PEER_GROUPS_MAX 65536

struct ctl_client {
	struct control *ctl;
	int fd;
	uid_t uid;
	pid_t pid;
	bool eof;               /* the client sent its last byte */
	bool closing;           /* refused: close once the error reply is out */
	char *out;              /* replies not yet sent: out[out_off..out_len) */
	size_t out_off, out_len, out_cap;
	struct ctl_linebuf in;
};

struct control {
	struct gpuvmd *d;
	struct control_policy pol;
	char *path;
	int listen_fd;
	dev_t sock_dev;         /* to remove only the socket we made */
	ino_t sock_ino;
	struct ctl_client *clients[CONTROL_MAX_CLIENTS];
	unsigned nclients;
};

/* ---- Access ---------------------------------------------------------------------- */

bool control_peer_allowed(const struct control_policy *pol, uid_t uid, gid_t gid,
			  const gid_t *groups, size_t ngroups)
{
	if (uid == 0 || uid == pol->self_uid)
		return true;
	if (!pol->has_group)
		return false;
	if (gid == pol->group)
		return true;
	for (size_t i = 0; i < ngroups; i++)
		if (groups[i] == pol->group)
			return true;
	return false;
}

/* The peer's supplementary groups at connect time (Linux >= 4.13). */
static gid_t *peer_groups_sockopt(int fd, size_t *n)
{
	socklen_t len = 64 * sizeof(gid_t);
	gid_t *g = NULL;

	for (;;) {
		gid_t *ng = realloc(g, len);

		if (!ng)
			break;
		g = ng;
		if (!getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len)) {
			*n = len / sizeof(gid_t);
			return g;
		}
		if (errno != ERANGE || len > PEER_GROUPS_MAX * sizeof(gid_t))
			break;
	}
	free(g);
	return NULL;
}

/* Fallback for older kernels: the groups the account database gives uid. */
static gid_t *peer_groups_passwd(uid_t uid, gid_t gid, size_t *n)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int count = 64;
	gid_t *g = NULL;

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) || !res)
		return NULL;
	for (int tries = 0; tries < 4; tries++) {
		gid_t *ng = realloc(g, (size_t)count * sizeof(gid_t));

		if (!ng)
			break;
		g = ng;
		if (getgrouplist(pw.pw_name, gid, g, &count) >= 0) {
			*n = (size_t)count;
			return g;
		}
	}
	free(g);
	return NULL;
}

static bool peer_allowed(struct control *c, int fd, const struct ucred *cr)
{
	gid_t *groups = NULL;
	size_t n = 0;
	bool ok;

	if (control_peer_allowed(&c->pol, cr->uid, cr->gid, NULL, 0))
		return true;
	if (!c->pol.has_group)
		return false;
	groups = peer_groups_sockopt(fd, &n);
	if (!groups)
		groups = peer_groups_passwd(cr->uid, cr->gid, &n);
	ok = control_peer_allowed(&c->pol, cr->uid, cr->gid, groups, n);
	free(groups);
	return ok;
}

/* ---- Client output --------------------------------------------------------------- */

static size_t out_pending(const struct ctl_client *cl)
{
	return cl->out_len - cl->out_off;
}

/* Queue one reply line (taking it).  0, or -1 out of memory. */
static int client_queue(struct ctl_client *cl, char *line)
{
	size_t len = line ? strlen(line) : 0;

	if (!line)
		return -1;
	if (cl->out_len + len > cl->out_cap) {
		size_t cap = cl->out_cap ? cl->out_cap : 4096;
		char *p;

		while (cap < cl->out_len + len)
			cap *= 2;
		p = realloc(cl->out, cap);
		if (!p) {
			free(line);
			return -1;
		}
		cl->out = p;
		cl->out_cap = cap;
	}
	memcpy(cl->out + cl->out_len, line, len);
	cl->out_len += len;
	free(line);
	return 0;
}

static int client_queue_error(struct ctl_client *cl, const char *msg)
{
	return client_queue(cl, ctl_reply_encode_error(msg));
}

/* Send what the socket takes now.  0, or -1 if the client is gone. */
static int client_flush(struct ctl_client *cl)
{
	while (out_pending(cl) > 0) {
		ssize_t n = send(cl->fd, cl->out + cl->out_off, out_pending(cl),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		cl->out_off += (size_t)n;
	}
	cl->out_off = cl->out_len = 0;
	return 0;
}

/* ---- Ops ----------------------------------------------------------------------------- */

typedef int (*op_fn)(struct control *c, const struct ctl_request *req,
		     struct json_object *reply, char *err, size_t errlen);

static int add_obj(struct json_object *reply, const char *key, struct json_object *val)
{
	if (!val || json_object_object_add(reply, key, val)) {
		json_object_put(val);
		return -1;
	}
	return 0;
}

static struct json_object *vgpu_json(struct vgpu *v)
{
	struct vgpu_info info;
	struct sched_vm_stats st;
	struct json_object *o;

	vgpu_get_info(v, &info);
	o = ctl_info_to_json(&info, vgpu_mode_name(info.mode));
	/* The scheduler's settings of the vGPU (sched-credit changes them). */
	vgpu_sched_stats(v, &st);
	if (o && (add_obj(o, "weight", json_object_new_uint64(st.weight)) ||
		  add_obj(o, "cap", json_object_new_uint64(st.cap)))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int oom(char *err, size_t errlen)
{
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int op_version(struct control *c, const struct ctl_request *req,
		      struct json_object *reply, char *err, size_t errlen)
{
	struct json_object *ops = json_object_new_array();

	(void)c;
	(void)req;
	for (int i = 0; ops && i < CTL_OP_COUNT; i++)
		json_object_array_add(ops, json_object_new_string(ctl_op_name((enum ctl_op)i)));
	if (add_obj(reply, "protocol", json_object_new_int(CTL_PROTOCOL_VERSION)) ||
	    add_obj(reply, "daemon", json_object_new_string("gpuvmd")) ||
	    add_obj(reply, "ops", ops))
		return oom(err, errlen);
	return 0;
}

static int op_create(struct control *c, const struct ctl_request *req,
		     struct json_object *reply, char *err, size_t errlen)
{
	struct vgpu_config cfg = {
		.vram_size = req->has_vram ? req->vram : VGPU_DEFAULT_VRAM,
		.channels = req->has_channels ? req->channels : VGPU_DEFAULT_CHANNELS,
	};
	const char *mode = req->has_mode ? req->mode : "full";
	int m = vgpu_mode_parse(mode);
	struct vgpu *v;

	if (m < 0) {
		snprintf(err, errlen, "unknown mode '%s' (expected full, pv-naive or pv)", mode);
		return -1;
	}
	cfg.mode = (enum vgpu_mode)m;
	snprintf(cfg.name, sizeof(cfg.name), "%s", req->name);
	v = daemon_create_vgpu(c->d, &cfg, err, errlen);
	if (!v)
		return -1;
	if ((req->has_weight || req->has_cap) &&
	    vgpu_sched_set(v, req->has_weight ? (int)req->weight : -1,
			   req->has_cap ? (int)req->cap : -1)) {
		/* Checked when decoded, so this does not happen; undo if it does. */
		daemon_destroy_vgpu(c->d, req->name, err, errlen);
		snprintf(err, errlen, "the scheduler refused weight/cap for vGPU '%s'", req->name);
		return -1;
	}
	if (add_obj(reply, "vgpu", vgpu_json(v)))
		return oom(err, errlen);
	return 0;
}

static int op_destroy(struct control *c, const struct ctl_request *req,
		      struct json_object *reply, char *err, size_t errlen)
{
	(void)reply;
	return daemon_destroy_vgpu(c->d, req->name, err, errlen);
}

static int op_reset(struct control *c, const struct ctl_request *req,
		    struct json_object *reply, char *err, size_t errlen)
{
	(void)reply;
	return daemon_reset_vgpu(c->d, req->name, err, errlen);
}

static struct json_object *host_json(struct gpuvmd *d)
{
	struct json_object *h = json_object_new_object();
	uint64_t total, largest;

	host_vram_free(daemon_host(d), &total, &largest);
	if (!h || add_obj(h, "vram_total", json_object_new_uint64(daemon_gpu_vram(d))) ||
	    add_obj(h, "vram_free", json_object_new_uint64(total)) ||
	    add_obj(h, "vram_largest_free", json_object_new_uint64(largest)) ||
	    add_obj(h, "vgpus", json_object_new_uint64(daemon_vgpu_count(d)))) {
		json_object_put(h);
		return NULL;
	}
	return h;
}

static int op_list(struct control *c, const struct ctl_request *req,
		   struct json_object *reply, char *err, size_t errlen)
{
	struct json_object *arr = json_object_new_array();

	(void)req;
	if (add_obj(reply, "vgpus", arr))
		return oom(err, errlen);
	for (unsigned i = 0; i < daemon_vgpu_count(c->d); i++) {
		struct json_object *o = vgpu_json(daemon_vgpu_at(c->d, i));

		if (!o || json_object_array_add(arr, o)) {
			json_object_put(o);
			return oom(err, errlen);
		}
	}
	if (add_obj(reply, "host", host_json(c->d)))
		return oom(err, errlen);
	return 0;
}

static int op_info(struct control *c, const struct ctl_request *req,
		   struct json_object *reply, char *err, size_t errlen)
{
	struct vgpu *v = daemon_find_vgpu(c->d, req->name);

	if (!v) {
		snprintf(err, errlen, "no vGPU named '%s'", req->name);
		return -1;
	}
	if (add_obj(reply, "vgpu", vgpu_json(v)))
		return oom(err, errlen);
	return 0;
}

/* One entry of check's "checks": scope "host" or "vgpu" (with its name). */
static int check_entry(struct json_object *checks, const char *name, bool clean, const char *why)
{
	struct json_object *e = json_object_new_object();

	if (!e || add_obj(e, "scope", json_object_new_string(name ? "vgpu" : "host")) ||
	    (name && add_obj(e, "name", json_object_new_string(name))) ||
	    add_obj(e, "isolated", json_object_new_boolean(clean)) ||
	    add_obj(e, "details", json_object_new_string(clean ? "" : why)) ||
	    json_object_array_add(checks, e)) {
		json_object_put(e);
		return -1;
	}
	return 0;
}

/* Run one vGPU's checker; *all_clean cleared on a violation.  0, or -1 out of memory. */
static int check_vgpu(struct json_object *checks, struct vgpu *v, bool *all_clean)
{
	char why[CTL_ERR_MAX] = "";
	bool clean = vgpu_check_isolation(v, why, sizeof(why)) == 0;

	if (!clean) {
		*all_clean = false;
		gpuvm_log(GPUVM_LOG_ERR, "isolation check failed for vGPU '%s': %s", vgpu_name(v), why);
	}
	return check_entry(checks, vgpu_name(v), clean, why);
}

static int check_host(struct control *c, struct json_object *checks, bool *all_clean)
{
	char why[CTL_ERR_MAX] = "";
	bool clean = host_check_isolation(daemon_host(c->d), why, sizeof(why)) == 0;

	if (!clean) {
		*all_clean = false;
		gpuvm_log(GPUVM_LOG_ERR, "host isolation check failed: %s", why);
	}
	if (check_entry(checks, NULL, clean, why))
		return -1;
	for (unsigned i = 0; i < daemon_vgpu_count(c->d); i++)
		if (check_vgpu(checks, daemon_vgpu_at(c->d, i), all_clean))
			return -1;
	return 0;
}

static int op_check(struct control *c, const struct ctl_request *req,
		    struct json_object *reply, char *err, size_t errlen)
{
	struct json_object *checks = json_object_new_array();
	bool clean = true;
	struct vgpu *v = NULL;

	if (req->name[0] && !(v = daemon_find_vgpu(c->d, req->name))) {
		json_object_put(checks);
		snprintf(err, errlen, "no vGPU named '%s'", req->name);
		return -1;
	}
	if (add_obj(reply, "checks", checks))
		return oom(err, errlen);
	if (v ? check_vgpu(checks, v, &clean) : check_host(c, checks, &clean))
		return oom(err, errlen);
	if (add_obj(reply, "isolated", json_object_new_boolean(clean)))
		return oom(err, errlen);
	return 0;
}

static int op_shutdown(struct control *c, const struct ctl_request *req,
		       struct json_object *reply, char *err, size_t errlen)
{
	(void)req;
	(void)reply;
	(void)err;
	(void)errlen;
	gpuvm_log(GPUVM_LOG_INFO, "shutdown requested over the control socket");
	daemon_request_stop(c->d);      /* the reply is flushed on the way out */
	return 0;
}

/* ---- Scheduling ops ------------------------------------------------------------- */

#define NS_PER_MS 1000000ull

static const char *const sched_policy_names[] = { "direct", "fifo", "credit", "band" };

/* A ratio or average as JSON, printed with 6 significant digits (not 17). */
static struct json_object *json_ratio(double v)
{
	char text[32];

	snprintf(text, sizeof(text), "%.6g", v);
	return json_object_new_double_s(v, text);
}

/* The vGPU called req->name, or NULL with the message in err. */
static struct vgpu *find_named(struct control *c, const struct ctl_request *req, char *err,
			       size_t errlen)
{
	struct vgpu *v = daemon_find_vgpu(c->d, req->name);

	if (!v)
		snprintf(err, errlen, "no vGPU named '%s'", req->name);
	return v;
}

/* The global parameters as {"period_ns":..,"tick_ns":..,"tslice_ns":..} fields of obj. */
static int sched_params_json(struct json_object *obj, const struct sched_params *p)
{
	return add_obj(obj, "period_ns", json_object_new_uint64(p->period_ns)) ||
	       add_obj(obj, "tick_ns", json_object_new_uint64(p->tick_ns)) ||
	       add_obj(obj, "tslice_ns", json_object_new_uint64(p->tslice_ns));
}

/*
 * Apply what the request sets of period, tick and tslice to *p and check
 * the result as a whole (tick within period).  0, or -1 with why.
 */
static int sched_params_from_req(const struct ctl_request *req, struct sched_params *p,
				 char *err, size_t errlen)
{
	if (req->has_period)
		p->period_ns = req->period_ms * NS_PER_MS;
	if (req->has_tick)
		p->tick_ns = req->tick_ms * NS_PER_MS;
	if (req->has_tslice)
		p->tslice_ns = req->tslice_ms * NS_PER_MS;
	if (p->tick_ns > p->period_ns) {
		snprintf(err, errlen, "the tick (%llu ms) must not exceed the period (%llu ms)",
			 (unsigned long long)(p->tick_ns / NS_PER_MS),
			 (unsigned long long)(p->period_ns / NS_PER_MS));
		return -1;
	}
	return 0;
}

static int op_sched(struct control *c, const struct ctl_request *req,
		    struct json_object *reply, char *err, size_t errlen)
{
	struct gpuvm_host *h = daemon_host(c->d);
	struct json_object *names = json_object_new_array();
	struct sched_params p;
	bool set_params = req->has_period || req->has_tick || req->has_tslice;

	if (add_obj(reply, "policies", names))
		return oom(err, errlen);
	for (size_t i = 0; i < sizeof(sched_policy_names) / sizeof(sched_policy_names[0]); i++)
		if (sched_policy_find(sched_policy_names[i]) &&
		    json_object_array_add(names, json_object_new_string(sched_policy_names[i])))
			return oom(err, errlen);
	/* Everything is checked before anything changes. */
	host_get_sched_params(h, &p);
	if (sched_params_from_req(req, &p, err, errlen))
		return -1;
	if (req->has_policy) {
		if (host_set_sched(h, req->policy, err, errlen))
			return -1;
		gpuvm_log(GPUVM_LOG_INFO, "scheduling policy is now %s", host_sched_name(h));
	}
	if (set_params && host_set_sched_params(h, &p)) {
		snprintf(err, errlen, "the scheduler refused the parameters");
		return -1;
	}
	host_get_sched_params(h, &p);
	if (add_obj(reply, "policy", json_object_new_string(host_sched_name(h))) ||
	    sched_params_json(reply, &p))
		return oom(err, errlen);
	return 0;
}

/* A new object with {"name","id","weight","cap"} of v; its figures in *st. */
static struct json_object *sched_entry_new(struct vgpu *v, struct sched_vm_stats *st)
{
	struct json_object *e = json_object_new_object();
	struct vgpu_info info;

	vgpu_get_info(v, &info);
	vgpu_sched_stats(v, st);
	if (e && (add_obj(e, "name", json_object_new_string(info.name)) ||
		  add_obj(e, "id", json_object_new_uint64(info.id)) ||
		  add_obj(e, "weight", json_object_new_uint64(st->weight)) ||
		  add_obj(e, "cap", json_object_new_uint64(st->cap)))) {
		json_object_put(e);
		e = NULL;
	}
	return e;
}

/* {"name","id","weight","cap"} of one vGPU, appended to arr. */
static int sched_credit_entry(struct json_object *arr, struct vgpu *v)
{
	struct sched_vm_stats st;
	struct json_object *e = sched_entry_new(v, &st);

	if (!e || json_object_array_add(arr, e)) {
		json_object_put(e);
		return -1;
	}
	return 0;
}

static int op_sched_credit(struct control *c, const struct ctl_request *req,
			   struct json_object *reply, char *err, size_t errlen)
{
	struct gpuvm_host *h = daemon_host(c->d);
	struct json_object *arr;
	struct sched_params p;
	struct vgpu *v = NULL;

	if (req->name[0] && !(v = find_named(c, req, err, errlen)))
		return -1;
	host_get_sched_params(h, &p);
	if (sched_params_from_req(req, &p, err, errlen))
		return -1;
	if (req->has_tslice && host_set_sched_params(h, &p)) {
		snprintf(err, errlen, "the scheduler refused the time slice");
		return -1;
	}
	if (v && (req->has_weight || req->has_cap) &&
	    vgpu_sched_set(v, req->has_weight ? (int)req->weight : -1,
			   req->has_cap ? (int)req->cap : -1)) {
		snprintf(err, errlen, "the scheduler refused weight/cap for vGPU '%s'", req->name);
		return -1;
	}
	host_get_sched_params(h, &p);
	arr = json_object_new_array();
	if (add_obj(reply, "policy", json_object_new_string(host_sched_name(h))) ||
	    sched_params_json(reply, &p) || add_obj(reply, "vgpus", arr))
		return oom(err, errlen);
	for (unsigned i = 0; i < daemon_vgpu_count(c->d); i++) {
		struct vgpu *w = daemon_vgpu_at(c->d, i);

		if ((!v || w == v) && sched_credit_entry(arr, w))
			return oom(err, errlen);
	}
	return 0;
}

/* One vGPU's scheduling figures (sched_vm_stats), appended to arr. */
static int stats_entry(struct json_object *arr, struct vgpu *v)
{
	struct sched_vm_stats st;
	struct json_object *e = sched_entry_new(v, &st);

	if (!e || add_obj(e, "gpu_ns", json_object_new_uint64(st.gpu_ns)) ||
	    add_obj(e, "share_100ms", json_ratio(st.share_100ms)) ||
	    add_obj(e, "share_1s", json_ratio(st.share_1s)) ||
	    add_obj(e, "queued", json_object_new_uint64(st.queued)) ||
	    add_obj(e, "in_flight", json_object_new_uint64(st.in_flight)) ||
	    add_obj(e, "submissions", json_object_new_uint64(st.submissions)) ||
	    add_obj(e, "releases", json_object_new_uint64(st.releases)) ||
	    add_obj(e, "waits", json_object_new_uint64(st.waits)) ||
	    add_obj(e, "wait_ns", json_object_new_uint64(st.wait_ns)) ||
	    add_obj(e, "credit_ns", json_object_new_int64(st.credit)) ||
	    json_object_array_add(arr, e)) {
		json_object_put(e);
		return -1;
	}
	return 0;
}

/* The scheduler's global figures; releases is the sum over the vGPUs. */
static struct json_object *stats_global(struct gpuvm_host *h, uint64_t releases)
{
	struct json_object *g = json_object_new_object();
	struct sched_stats st;
	struct sched_params p;

	host_sched_stats(h, &st);
	host_get_sched_params(h, &p);
	if (!g || add_obj(g, "policy", json_object_new_string(st.policy)) ||
	    add_obj(g, "uptime_ns", json_object_new_uint64(st.uptime_ns)) ||
	    add_obj(g, "busy_ns", json_object_new_uint64(st.busy_ns)) ||
	    add_obj(g, "utilization", json_ratio(
		    st.uptime_ns ? (double)st.busy_ns / (double)st.uptime_ns : 0)) ||
	    add_obj(g, "decisions", json_object_new_uint64(st.decisions)) ||
	    add_obj(g, "decision_ns", json_object_new_uint64(st.decision_ns)) ||
	    add_obj(g, "ns_per_decision", json_ratio(
		    st.decisions ? (double)st.decision_ns / (double)st.decisions : 0)) ||
	    add_obj(g, "releases", json_object_new_uint64(releases)) ||
	    add_obj(g, "ns_per_release", json_ratio(
		    releases ? (double)st.decision_ns / (double)releases : 0)) ||
	    sched_params_json(g, &p)) {
		json_object_put(g);
		return NULL;
	}
	return g;
}

static int op_stats(struct control *c, const struct ctl_request *req,
		    struct json_object *reply, char *err, size_t errlen)
{
	struct json_object *arr;
	struct vgpu *v = NULL;
	uint64_t releases = 0;

	if (req->name[0] && !(v = find_named(c, req, err, errlen)))
		return -1;
	for (unsigned i = 0; i < daemon_vgpu_count(c->d); i++) {
		struct sched_vm_stats st;

		vgpu_sched_stats(daemon_vgpu_at(c->d, i), &st);
		releases += st.releases;
	}
	if (add_obj(reply, "sched", stats_global(daemon_host(c->d), releases)))
		return oom(err, errlen);
	arr = json_object_new_array();
	if (add_obj(reply, "vgpus", arr))
		return oom(err, errlen);
	for (unsigned i = 0; i < daemon_vgpu_count(c->d); i++) {
		struct vgpu *w = daemon_vgpu_at(c->d, i);

		if ((!v || w == v) && stats_entry(arr, w))
			return oom(err, errlen);
	}
	return 0;
}

/* The mode applies at the vGPU's next quiescent point; the reply shows both. */
static int op_set_mode(struct control *c, const struct ctl_request *req,
		       struct json_object *reply, char *err, size_t errlen)
{
	struct vgpu *v = daemon_find_vgpu(c->d, req->name);
	int m = vgpu_mode_parse(req->mode);

	if (m < 0) {
		snprintf(err, errlen, "unknown mode '%s' (expected full, pv-naive or pv)", req->mode);
		return -1;
	}
	if (!v) {
		snprintf(err, errlen, "no vGPU named '%s'", req->name);
		return -1;
	}
	if (req->has_opt_lazy || req->has_opt_remap)
		vgpu_set_opts(v, req->has_opt_lazy ? req->opt_lazy : -1,
			      req->has_opt_remap ? req->opt_remap : -1);
	if (vgpu_set_mode(v, (enum vgpu_mode)m)) {
		snprintf(err, errlen, "vGPU '%s' cannot take mode '%s'", req->name, req->mode);
		return -1;
	}
	return add_obj(reply, "vgpu", vgpu_json(v)) ? oom(err, errlen) : 0;
}

/* attach/detach: the backend's business (xen); others refuse with a clear message. */
static int op_attach(struct control *c, const struct ctl_request *req,
		     struct json_object *reply, char *err, size_t errlen)
{
	struct backend_attach a = {
		.domain = req->domain,
		.bdf = req->has_bdf ? req->bdf : NULL,
		.cfg = {
			.vram_size = req->has_vram ? req->vram : VGPU_DEFAULT_VRAM,
			.channels = req->has_channels ? req->channels : VGPU_DEFAULT_CHANNELS,
		},
	};
	const char *mode = req->has_mode ? req->mode : "full";
	int m = vgpu_mode_parse(mode);
	char name[VGPU_NAME_MAX] = "";
	struct vgpu *v;

	if (m < 0) {
		snprintf(err, errlen, "unknown mode '%s' (expected full, pv-naive or pv)", mode);
		return -1;
	}
	a.cfg.mode = (enum vgpu_mode)m;
	if (daemon_backend_attach(c->d, &a, name, err, errlen))
		return -1;
	v = daemon_find_vgpu(c->d, name);
	if (!v || add_obj(reply, "vgpu", vgpu_json(v)))
		return oom(err, errlen);
	return 0;
}

static int op_detach(struct control *c, const struct ctl_request *req,
		     struct json_object *reply, char *err, size_t errlen)
{
	(void)reply;
	return daemon_backend_detach(c->d, req->domain, err, errlen);
}

static const op_fn ops[CTL_OP_COUNT] = {
	[CTL_OP_VERSION] = op_version,
	[CTL_OP_CREATE] = op_create,
	[CTL_OP_DESTROY] = op_destroy,
	[CTL_OP_RESET] = op_reset,
	[CTL_OP_LIST] = op_list,
	[CTL_OP_INFO] = op_info,
	[CTL_OP_CHECK] = op_check,
	[CTL_OP_SHUTDOWN] = op_shutdown,
	[CTL_OP_SCHED] = op_sched,
	[CTL_OP_SCHED_CREDIT] = op_sched_credit,
	[CTL_OP_STATS] = op_stats,
	[CTL_OP_SET_MODE] = op_set_mode,
	[CTL_OP_ATTACH] = op_attach,
	[CTL_OP_DETACH] = op_detach,
};

/* ---- Requests ----------------------------------------------------------------------- */

/* The reply line for a decoded request; never NULL. */
static char *run_op(struct control *c, const struct ctl_request *req)
{
	char err[CTL_ERR_MAX] = "";
	struct json_object *reply = ctl_reply_new_ok();
	char *line = NULL;

	if (!reply)
		return ctl_reply_encode_error("out of memory");
	if (ops[req->op](c, req, reply, err, sizeof(err)) == 0)
		line = ctl_reply_encode(reply);
	else
		line = ctl_reply_encode_error(err[0] ? err : "failed");
	json_object_put(reply);
	return line ? line : ctl_reply_encode_error("out of memory");
}

static bool line_blank(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t')
			return false;
	return true;
}

static int client_handle_line(struct ctl_client *cl, const char *line, size_t len)
{
	struct ctl_request req;
	char err[CTL_ERR_MAX];

	if (line_blank(line, len))
		return 0;
	if (ctl_request_decode(line, len, &req, err, sizeof(err))) {
		gpuvm_log(GPUVM_LOG_DEBUG, "control client pid %ld: bad request: %s", (long)cl->pid, err);
		return client_queue_error(cl, err);
	}
	gpuvm_log(GPUVM_LOG_DEBUG, "control client pid %ld: %s %s", (long)cl->pid,
		  ctl_op_name(req.op), req.name);
	return client_queue(cl, run_op(cl->ctl, &req));
}

/* Handle the complete lines buffered, while the client keeps reading replies. */
static int client_serve(struct ctl_client *cl)
{
	while (!cl->closing && out_pending(cl) < CLIENT_OUT_HIGH) {
		char *line;
		size_t len;
		enum ctl_line_status st = ctl_linebuf_next(&cl->in, &line, &len);
		int r = 0;

		if (st == CTL_LINE_NONE)
			break;
		if (st == CTL_LINE_TOO_LONG)
			r = client_queue_error(cl, "request too long (more than 65536 bytes); "
					       "skipped up to its newline");
		else
			r = client_handle_line(cl, line, len);
		if (r)
			return -1;
	}
	return 0;
}

/*
 * Serve and send until the socket takes no more, no complete line is left,
 * or the client is closing.  Serving stops at the output high-water mark; if
 * the socket then takes every reply, lines already buffered must still be
 * served now: no new input may ever come to wake us for them.
 */
static int client_pump(struct ctl_client *cl)
{
	size_t before;

	do {
		before = ctl_linebuf_pending(&cl->in);
		if (client_serve(cl) || client_flush(cl))
			return -1;
	} while (!cl->closing && !out_pending(cl) && ctl_linebuf_pending(&cl->in) &&
		 ctl_linebuf_pending(&cl->in) != before);
	return 0;
}

/* One read.  0, or -1 if the connection failed. */
static int client_read(struct ctl_client *cl)
{
	size_t room;
	char *p = ctl_linebuf_space(&cl->in, &room);
	ssize_t n;

	if (room == 0)          /* full of requests not served yet: read later */
		return 0;
	n = recv(cl->fd, p, room, MSG_DONTWAIT);
	if (n > 0) {
		ctl_linebuf_commit(&cl->in, (size_t)n);
		return 0;
	}
	if (n == 0) {
		/* An unfinished last line is dropped: requests end with a newline. */
		cl->eof = true;
		return 0;
	}
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
}

static short client_events(const struct ctl_client *cl)
{
	short ev = 0;

	if (!cl->eof && !cl->closing && out_pending(cl) < CLIENT_OUT_HIGH)
		ev |= POLLIN;
	if (out_pending(cl) > 0)
		ev |= POLLOUT;
	return ev;
}

static void client_drop(struct ctl_client *cl)
{
	struct control *c = cl->ctl;

	for (unsigned i = 0; i < c->nclients; i++) {
		if (c->clients[i] != cl)
			continue;
		c->clients[i] = c->clients[--c->nclients];
		break;
	}
	daemon_unwatch_fd(c->d, cl->fd);
	close(cl->fd);
	free(cl->out);
	free(cl);
}

static void on_client(struct gpuvmd *d, int fd, short revents, void *arg)
{
	struct ctl_client *cl = arg;
	short ev;

	(void)fd;
	if (revents & (POLLERR | POLLNVAL))
		goto drop;
	if ((revents & POLLOUT) && client_flush(cl))
		goto drop;
	if ((revents & (POLLIN | POLLHUP)) && !cl->eof && !cl->closing && client_read(cl))
		goto drop;
	if (client_pump(cl))
		goto drop;
	ev = client_events(cl);
	/* Nothing left to read or send: a finished or refused client, or a hung-up one. */
	if (!ev || ((revents & POLLHUP) && !(ev & POLLIN)))
		goto drop;
	daemon_watch_fd_events(d, cl->fd, ev);
	return;
drop:
	client_drop(cl);
}

/* ---- Accepting ---------------------------------------------------------------------- */

static struct ctl_client *client_new(struct control *c, int fd, const struct ucred *cr)
{
	struct ctl_client *cl = malloc(sizeof(*cl));

	if (!cl)
		return NULL;
	*cl = (struct ctl_client){ .ctl = c, .fd = fd, .uid = cr->uid, .pid = cr->pid };
	ctl_linebuf_init(&cl->in);
	return cl;
}

/* Refused clients still get a reply saying why; then they are closed. */
static void client_refuse(struct ctl_client *cl, const char *why)
{
	gpuvm_log(GPUVM_LOG_WARN, "control client pid %ld uid %u refused: %s",
		  (long)cl->pid, (unsigned)cl->uid, why);
	client_queue_error(cl, why);
	cl->closing = true;
}

static void client_admit(struct control *c, int fd)
{
	struct ucred cr = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	socklen_t len = sizeof(cr);
	struct ctl_client *cl;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		gpuvm_log(GPUVM_LOG_WARN, "control client: SO_PEERCRED: %s", strerror(errno));
		close(fd);
		return;
	}
	cl = client_new(c, fd, &cr);
	if (!cl || c->nclients == CONTROL_MAX_CLIENTS) {
		/* No slot to hold the refusal: say so right away, best effort. */
		static const char busy[] = "{\"ok\":false,\"error\":\"too many control clients\"}\n";

		if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* It is being closed anyway. */
		}
		free(cl);
		close(fd);
		return;
	}
	if (!peer_allowed(c, fd, &cr))
		client_refuse(cl, "permission denied: only root, gpuvmd's own user and "
			      "members of its --group may use the control socket");
	if (daemon_watch_fd(c->d, fd, client_events(cl), on_client, cl)) {
		free(cl->out);
		free(cl);
		close(fd);
		return;
	}
	c->clients[c->nclients++] = cl;
	if (cl->closing && (client_flush(cl) || !out_pending(cl)))
		client_drop(cl);
}

static void on_listen(struct gpuvmd *d, int fd, short revents, void *arg)
{
	struct control *c = arg;

	(void)d;
	(void)revents;
	for (int i = 0; i < ACCEPT_BURST; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd >= 0) {
			client_admit(c, cfd);
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNABORTED)
			GPUVM_LOG_ONCE(GPUVM_LOG_WARN, "control socket: accept: %s", strerror(errno));
		return;
	}
}

/* ---- Listening socket ---------------------------------------------------------------------- */

/* Is a daemon answering on path?  1 yes, 0 no (stale socket), -1 error. */
static int socket_live(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int r;

	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	r = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
	close(fd);
	if (r == 0)
		return 1;
	if (errno == ECONNREFUSED)
		return 0;
	snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
	return -1;
}

/* Make room for the socket: remove a stale one, refuse anything else. */
static int socket_clear_path(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int live;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "control socket %s: the path exists and is not a socket", path);
		return -1;
	}
	live = socket_live(path, err, errlen);
	if (live) {
		if (live > 0)
			snprintf(err, errlen, "control socket %s is in use by another process "
				 "(another gpuvmd?)", path);
		return -1;
	}
	gpuvm_log(GPUVM_LOG_INFO, "removing stale control socket %s", path);
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "removing stale socket %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Created 0600 (umask) so nobody can connect before the group and mode are
 * right; SO_PEERCRED is checked on every connection anyway.
 */
static int socket_bind(struct control *c, int fd, char *err, size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old_umask;
	int r;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", c->path);
	old_umask = umask(0177);
	r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old_umask);
	if (r < 0) {
		snprintf(err, errlen, "binding control socket %s: %s", c->path, strerror(errno));
		return -1;
	}
	if (stat(c->path, &st) < 0) {
		snprintf(err, errlen, "control socket %s: %s", c->path, strerror(errno));
		unlink(c->path);
		return -1;
	}
	c->sock_dev = st.st_dev;
	c->sock_ino = st.st_ino;
	return 0;
}

static int socket_set_access(struct control *c, char *err, size_t errlen)
{
	if (c->pol.has_group && chown(c->path, (uid_t)-1, c->pol.group) < 0) {
		snprintf(err, errlen, "giving control socket %s to group %u: %s", c->path,
			 (unsigned)c->pol.group, strerror(errno));
		return -1;
	}
	if (chmod(c->path, 0660) < 0) {
		snprintf(err, errlen, "control socket %s: %s", c->path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Remove the socket file only if it is still ours (not a successor's). */
static void socket_remove(struct control *c)
{
	struct stat st;

	if (c->sock_ino && !stat(c->path, &st) && st.st_dev == c->sock_dev &&
	    st.st_ino == c->sock_ino)
		unlink(c->path);
}

static int socket_open(struct control *c, char *err, size_t errlen)
{
	if (strlen(c->path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(err, errlen, "control socket path '%s' is too long", c->path);
		return -1;
	}
	if (socket_clear_path(c->path, err, errlen))
		return -1;
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->listen_fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (socket_bind(c, c->listen_fd, err, errlen))
		return -1;
	if (socket_set_access(c, err, errlen))
		return -1;
	if (listen(c->listen_fd, CONTROL_MAX_CLIENTS) < 0) {
		snprintf(err, errlen, "listening on %s: %s", c->path, strerror(errno));
		return -1;
	}
	return 0;
}

struct control *control_create(struct gpuvmd *d, const char *path,
			       const struct control_policy *pol, char *err, size_t errlen)
{
	struct control *c = calloc(1, sizeof(*c));

	if (!c || !(c->path = strdup(path))) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->d = d;
	c->pol = *pol;
	c->listen_fd = -1;
	if (socket_open(c, err, errlen))
		goto fail;
	if (daemon_watch_fd(d, c->listen_fd, POLLIN, on_listen, c)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	return c;
fail:
	control_destroy(c);
	return NULL;
}

void control_destroy(struct control *c)
{
	if (!c)
		return;
	while (c->nclients > 0) {
		struct ctl_client *cl = c->clients[c->nclients - 1];

		client_flush(cl);       /* last replies (e.g. to "shutdown"), best effort */
		client_drop(cl);
	}
	if (c->listen_fd >= 0) {
		daemon_unwatch_fd(c->d, c->listen_fd);
		close(c->listen_fd);
		socket_remove(c);
	}
	free(c->path);
	free(c);
}

unsigned control_client_count(const struct control *c)
{
	return c ? c->nclients : 0;
}
