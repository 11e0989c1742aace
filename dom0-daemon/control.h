/*
 * The control socket server: a Unix stream socket speaking the protocol of
 * docs/control-protocol.md (one JSON request per line, one reply line
 * each).  Every client has its own buffers and a nonblocking socket served
 * from the daemon's poll loop, so a slow, silent or malicious client only
 * ever costs its own connection.
 */
#ifndef GPUVM_CONTROL_H
#define GPUVM_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct gpuvmd;
struct control;

/* Who may talk to the daemon: root, self_uid, and members of group if has_group. */
struct control_policy {
	uid_t self_uid;
	bool has_group;
	gid_t group;
};

/* Most clients connected at once; more are told so and closed. */
#define CONTROL_MAX_CLIENTS 64

/*
 * Listen on path (mode 0660, group-owned by pol->group if set), replacing a
 * stale socket but never a live one or a file that is not a socket; serve
 * through d's poll loop.  NULL with a message on failure.
 */
struct control *control_create(struct gpuvmd *d, const char *path,
			       const struct control_policy *pol, char *err, size_t errlen);
/* Flush what can be flushed of queued replies, close clients, remove the socket.  NULL ok. */
void control_destroy(struct control *c);
/* Clients connected now (tests). */
unsigned control_client_count(const struct control *c);

/* The access rule on a peer's credentials; groups are its supplementary groups. */
bool control_peer_allowed(const struct control_policy *pol, uid_t uid, gid_t gid,
			  const gid_t *groups, size_t ngroups);

#endif
