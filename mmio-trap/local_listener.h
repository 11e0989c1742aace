/*
 * The local backend's guest socket: accepts guest processes, runs the
 * attach handshake, and owns one connection (and one local_server) per
 * attached guest.  See docs/local-backend.md.
 *
 * The listener does not know gpuvmd: everything it needs from the daemon
 * and the vGPU core comes through struct local_host_ops, so that tests and
 * benchmarks can run it against a fake vGPU (tests/trap) and gpuvmd runs
 * it against the real one (local_backend.c).
 *
 * Threads: every function here and every ops call but mmio() runs on the
 * host's control thread (the thread that runs watch callbacks and calls
 * vGPU lifecycle functions).  mmio() runs on the vGPU's server thread.
 */
#ifndef GPUVM_LOCAL_LISTENER_H
#define GPUVM_LOCAL_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "local_server.h"
#include "vgpu.h"

struct local_listener;

struct local_host_ops {
	/* The vGPU named name, or NULL. */
	void *(*find)(void *host, const char *name);
	/* vgpu_attach(): 0 or -EBUSY (or another negative errno). */
	int (*attach)(void *host, void *vgpu, void (*detach_hook)(void *arg), void *arg);
	/* vgpu_detach(): the guest is gone; reset the vGPU and release it.  May
	 * call the detach hook (which then does nothing). */
	void (*detach)(void *host, void *vgpu);
	/* vgpu_export(): 0 or a negative errno. */
	int (*export_bars)(void *host, void *vgpu, struct vgpu_export *out);
	/* vgpu_mmio(), on the server thread. */
	local_mmio_fn mmio;
	/*
	 * Watch fd for POLLIN on the control thread: while it is readable, call
	 * local_listener_fd_ready(l, fd, revents).  unwatch may be called from
	 * inside that call, for any fd; an fd unwatched gets no further call,
	 * even one whose readiness is already known.
	 */
	int (*watch)(void *host, int fd, struct local_listener *l);
	void (*unwatch)(void *host, int fd);
	/* Optional log sink (level: 0 err, 1 warn, 2 info, 3 debug). */
	void (*log)(void *host, int level, const char *msg);
};

struct local_listener_config {
	const char *path;       /* the guest socket to create */
	unsigned spin_ns;       /* server spin before sleeping; 0 = default (50 us) */
	bool no_spin;           /* never spin: sleep on the eventfd at once */
	unsigned max_pending;   /* connections still in the handshake; 0 = default */
	unsigned socket_mode;   /* permission bits of the socket; 0 = 0660 */
};

/*
 * Bind the socket (replacing a stale one; refusing when another daemon
 * answers on it) and watch it.  0 or a negative errno with a message.
 */
int local_listener_start(const struct local_host_ops *ops, void *host,
			 const struct local_listener_config *cfg, struct local_listener **out,
			 char *err, size_t errlen);
/* The host's poll loop saw fd (one the listener watches) ready. */
void local_listener_fd_ready(struct local_listener *l, int fd, short revents);
/* Drop every guest (stop its thread, detach its vGPU), close and unlink the socket. */
void local_listener_stop(struct local_listener *l);

/* [A-Za-z0-9_.-]{1,max-1}, NUL-terminated within max bytes. */
bool local_name_valid(const char *name, size_t max);

/* For tests, benchmarks and `gpuvmctl info`. */
unsigned local_listener_attached(const struct local_listener *l);
/* Server statistics of the guest attached to vGPU name: 0 or -ENOENT. */
int local_listener_stats(const struct local_listener *l, const char *name,
			 struct local_server_stats *out);

#endif
