/*
 * The gpuvmd control protocol, as both ends see it: newline-delimited JSON
 * over a Unix stream socket (docs/control-protocol.md).  gpuvmd decodes
 * requests and encodes vGPU state with these helpers; gpuvmctl and the
 * tests encode requests and parse replies with them.  Nothing here calls
 * the vGPU core, so gpuvmctl does not link it.
 */
#ifndef GPUVM_CONTROL_PROTO_H
#define GPUVM_CONTROL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "vgpu.h"

#define CTL_PROTOCOL_VERSION    1
#define CTL_MAX_LINE            (64 * 1024)     /* request bytes, newline excluded */
#define CTL_DEFAULT_SOCKET      "/run/gpuvmd.sock"
#define CTL_SOCKET_ENV          "GPUVMD_SOCKET"
#define CTL_GUEST_SOCKET_SUFFIX ".guest"        /* the local backend's socket */
#define CTL_MODE_MAX            16
#define CTL_ERR_MAX             256             /* room for any error message */
#define CTL_POLICY_MAX          16              /* scheduling policy name, NUL included */
/* Scheduler parameters in requests, in milliseconds (like xl's tslice_ms). */
#define CTL_PERIOD_MS_MAX       10000
#define CTL_TICK_MS_MAX         1000
#define CTL_TSLICE_MS_MAX       1000
#define CTL_CAP_MAX             100             /* percent; 0 = no cap */
#define CTL_DOMAIN_MAX          64              /* attach/detach domain, NUL included */
#define CTL_BDF_MAX             16              /* "DDDD:BB:DD.F", NUL included */

/* $GPUVMD_SOCKET if set and not empty, else CTL_DEFAULT_SOCKET. */
const char *ctl_default_socket(void);

/* ---- Values ------------------------------------------------------------------ */
/*
 * "268435456", "256M", "256MiB", "1g", "1024K": bytes, with an optional
 * K/M/G/T suffix (powers of 1024), optionally followed by "B" or "iB".
 * Returns 0, or -1 with a message naming the text.
 */
int ctl_parse_size(const char *text, uint64_t *bytes, char *err, size_t errlen);
/* A vGPU name: [A-Za-z0-9_.-], 1..VGPU_NAME_MAX-1 characters.  0 or -1 + why. */
int ctl_check_name(const char *name, char *err, size_t errlen);
/* Partition size: non-zero multiple of VGPU_VRAM_ALIGN.  0 or -1 + why. */
int ctl_check_vram(uint64_t bytes, char *err, size_t errlen);
/* 1..VGPU_MAX_CHANNELS.  0 or -1 + why. */
int ctl_check_channels(int64_t channels, char *err, size_t errlen);
/* Scheduling: weight 1..SCHED_MAX_WEIGHT; cap 0..CTL_CAP_MAX percent (0 = none). */
int ctl_check_weight(int64_t weight, char *err, size_t errlen);
int ctl_check_cap(int64_t cap, char *err, size_t errlen);
/* A policy gpuvmd knows ("direct", "fifo", "credit", "band", any case).  0 or -1 + why. */
int ctl_check_policy(const char *name, char *err, size_t errlen);
/* what ("period_ms", "tick_ms", "tslice_ms") in 1..max.  0 or -1 + why. */
int ctl_check_ms(const char *what, int64_t ms, int64_t max, char *err, size_t errlen);

/* ---- Requests ----------------------------------------------------------------- */
enum ctl_op {
	CTL_OP_VERSION,
	CTL_OP_CREATE,
	CTL_OP_DESTROY,
	CTL_OP_RESET,
	CTL_OP_LIST,
	CTL_OP_INFO,
	CTL_OP_CHECK,
	CTL_OP_SHUTDOWN,
	CTL_OP_SCHED,           /* show or set the policy and its global parameters */
	CTL_OP_SCHED_CREDIT,    /* show or set weights and caps (xl sched-credit) */
	CTL_OP_STATS,           /* scheduler statistics, global and per vGPU */
	CTL_OP_SET_MODE,        /* full / pv-naive / pv, at the vGPU's next quiescent point */
	CTL_OP_ATTACH,          /* give a hypervisor domain a new vGPU (xen backend) */
	CTL_OP_DETACH,          /* take it away and destroy the vGPU */
	CTL_OP_COUNT
};

const char *ctl_op_name(enum ctl_op op);
/* Op name -> op, or -1. */
int ctl_op_parse(const char *name);

struct ctl_request {
	enum ctl_op op;
	char name[VGPU_NAME_MAX];       /* "" when absent (check without a name) */
	bool has_vram, has_channels, has_mode;
	uint64_t vram;
	unsigned channels;
	char mode[CTL_MODE_MAX];        /* a name for vgpu_mode_parse(); not checked here */
	/* scheduling (create, sched, sched-credit); checked when decoded */
	bool has_weight, has_cap, has_policy, has_period, has_tick, has_tslice;
	unsigned weight, cap;
	char policy[CTL_POLICY_MAX];
	unsigned period_ms, tick_ms, tslice_ms;
	/* full-virtualisation optimisations (set-mode); checked when decoded */
	bool has_opt_lazy, has_opt_remap;
	bool opt_lazy, opt_remap;
	/* attach/detach: a domain name or id; the vGPU's PCI address in the guest */
	char domain[CTL_DOMAIN_MAX];
	bool has_bdf;
	char bdf[CTL_BDF_MAX];
};

/* A request for op with nothing else set. */
void ctl_request_init(struct ctl_request *req, enum ctl_op op);
/* One line, newline included; malloc'ed, NULL if out of memory. */
char *ctl_request_encode(const struct ctl_request *req);
/*
 * Decode one request line (without its newline).  Checks the JSON, the op,
 * that every field the op needs is present with the right type and value,
 * and that no field is unknown.  Returns 0, or -1 with the message for the
 * client's error reply.
 */
int ctl_request_decode(const char *line, size_t len, struct ctl_request *req,
		       char *err, size_t errlen);

/* ---- Replies ------------------------------------------------------------------ */
/* {"ok":true} to be filled by the caller; NULL if out of memory. */
struct json_object *ctl_reply_new_ok(void);
/* A reply object as one line, newline included; malloc'ed, NULL if out of memory. */
char *ctl_reply_encode(struct json_object *reply);
/* {"ok":false,"error":msg} as one line; never NULL (falls back to a static text). */
char *ctl_reply_encode_error(const char *msg);
/*
 * Client side: parse a reply line.  Returns 0 with *reply (caller puts it)
 * for {"ok":true,...}; 1 with the daemon's message in err for
 * {"ok":false,"error":...}; -1 with a message if the line is no reply.
 */
int ctl_reply_parse(const char *line, size_t len, struct json_object **reply,
		    char *err, size_t errlen);

/* struct vgpu_info as JSON (the "vgpu" object of info/create/list). */
struct json_object *ctl_info_to_json(const struct vgpu_info *info, const char *mode_name);
/* And back; mode as its name because enum values are the core's business. */
int ctl_info_from_json(struct json_object *obj, struct vgpu_info *info,
		       char *mode, size_t modelen, char *err, size_t errlen);

/* Field access for clients: missing or mistyped fields read as 0 / false / NULL. */
uint64_t ctl_json_u64(struct json_object *obj, const char *key);
bool ctl_json_bool(struct json_object *obj, const char *key);
const char *ctl_json_str(struct json_object *obj, const char *key);

/* ---- Framing ------------------------------------------------------------------ */
/*
 * Splits a byte stream into lines of at most CTL_MAX_LINE bytes.  A longer
 * line is reported once as CTL_LINE_TOO_LONG and skipped up to its newline,
 * so the connection stays usable.
 */
struct ctl_linebuf {
	size_t start, len;              /* pending bytes are data[start..len) */
	bool skipping;                  /* inside an oversized line */
	char data[CTL_MAX_LINE + 1];
};

enum ctl_line_status { CTL_LINE_NONE, CTL_LINE_OK, CTL_LINE_TOO_LONG };

void ctl_linebuf_init(struct ctl_linebuf *lb);
/*
 * Where to read new bytes, and how many fit: at least 1 once every
 * complete line has been taken with ctl_linebuf_next().
 */
char *ctl_linebuf_space(struct ctl_linebuf *lb, size_t *room);
void ctl_linebuf_commit(struct ctl_linebuf *lb, size_t n);
/*
 * The next complete line, NUL-terminated in place without its newline (and
 * without a trailing '\r'); valid until the next call on lb.
 */
enum ctl_line_status ctl_linebuf_next(struct ctl_linebuf *lb, char **line, size_t *len);
/* Bytes of an unfinished line. */
size_t ctl_linebuf_pending(const struct ctl_linebuf *lb);

/* ---- Client transport ------------------------------------------------------------ */
/* Connect to the daemon; the fd, or -1 with a message naming the path. */
int ctl_client_connect(const char *path, char *err, size_t errlen);
/*
 * Send one request line and read one reply line (malloc'ed into *reply,
 * without the newline).  Waits at most timeout_ms for the reply (-1: no
 * limit).  Returns 0, or -1 with a message.
 */
int ctl_client_call(int fd, const char *request, char **reply, int timeout_ms,
		    char *err, size_t errlen);

#endif
