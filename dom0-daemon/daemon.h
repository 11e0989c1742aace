/*
 * The gpuvmd daemon object: it owns the physical GPU (through the vGPU
 * core's struct gpuvm_host), the registry of vGPUs by name, the control
 * socket, the trap backend, and the one poll loop that serves them.
 *
 * Threads: everything here except daemon_request_stop() runs on the thread
 * that calls daemon_run() (the control thread of vgpu.h).  Backends that
 * need threads of their own keep them to themselves and talk to the vGPUs
 * they attached; they reach the registry only from fd callbacks, which run
 * on the control thread.
 */
#ifndef GPUVM_DAEMON_H
#define GPUVM_DAEMON_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vgpu.h"

struct gpuvmd;

/* ---- Trap backends ------------------------------------------------------------ */
/*
 * A trap backend connects guests to vGPUs.  start() is called once the
 * control socket is ready, with the path of the backend's own socket
 * (the control socket's path + ".guest"); it registers its fds with
 * daemon_watch_fd().  stop() is called at shutdown before any vGPU is
 * destroyed: it drops every guest and unwatches and closes its fds.
 */
/*
 * attach/detach (control ops "attach"/"detach"): give a hypervisor domain a
 * new vGPU, or take it away.  Only backends whose guests are domains have
 * them (xen); NULL elsewhere, and the ops then fail with a clear message.
 */
struct backend_attach {
	const char *domain;             /* domain name or numeric id */
	const char *bdf;                /* PCI address in the guest; NULL = default */
	struct vgpu_config cfg;         /* vram, channels, mode; the name is the backend's */
};

struct trap_backend_ops {
	const char *name;
	int (*start)(struct gpuvmd *d, const char *socket_path, char *err, size_t errlen);
	void (*stop)(struct gpuvmd *d);
	/* Optional.  attach fills vgpu_name (VGPU_NAME_MAX) with the vGPU it created. */
	int (*attach)(struct gpuvmd *d, const struct backend_attach *a, char *vgpu_name,
		      char *err, size_t errlen);
	int (*detach)(struct gpuvmd *d, const char *domain, char *err, size_t errlen);
};

/* mmio-trap/local_server.c: guests that are local processes. */
extern const struct trap_backend_ops local_backend_ops;
/* mmio-trap/xen/xen_backend.c: Xen domains through ioreq servers (HAVE_XEN builds). */
extern const struct trap_backend_ops xen_backend_ops;

/*
 * The running backend's attach/detach.  0, or -1 with a message (also when
 * the backend has none, e.g. --backend local).
 */
int daemon_backend_attach(struct gpuvmd *d, const struct backend_attach *a, char *vgpu_name,
			  char *err, size_t errlen);
int daemon_backend_detach(struct gpuvmd *d, const char *domain, char *err, size_t errlen);

/*
 * Find a backend by name ("local", "xen", "none").  Returns 0 with *ops
 * (NULL for "none": control socket only), or -1 with a message for an
 * unknown backend or one this build does not have.
 */
int daemon_backend_lookup(const char *name, const struct trap_backend_ops **ops,
			  char *err, size_t errlen);

/* ---- Life cycle ------------------------------------------------------------------ */
struct gpuvmd_config {
	const char *gpu_spec;           /* "sim[,vram=SIZE]"; NULL = "sim" */
	const char *socket_path;        /* control socket; NULL = ctl_default_socket() */
	const char *backend;            /* trap backend name; NULL = "none" */
	const char *pidfile;            /* lock and pid file; NULL = none */
	const char *group;              /* group whose members may use the socket; NULL = none */
	uint64_t reserved_vram;         /* host_config.reserved_vram (0 = the core's default) */
	const char *sched;              /* scheduling policy; NULL = the core's default (credit) */
	struct sched_params sched_params;   /* zeros = defaults */
};

/*
 * Lock the pidfile (failing, with the holder's pid in the message, if
 * another daemon has it), create the GPU and the host, listen on the
 * control socket, start the backend.  Returns NULL with a message on
 * failure, having undone everything.
 */
struct gpuvmd *daemon_create(const struct gpuvmd_config *cfg, char *err, size_t errlen);
/*
 * Serve until daemon_request_stop() (or a "shutdown" request, or SIGTERM/
 * SIGINT once daemon_handle_signals() was called); then stop the backend,
 * destroy every vGPU and close the control socket, removing it.  Returns 0,
 * or -1 if the loop itself failed (the same shutdown is done).
 */
int daemon_run(struct gpuvmd *d);
/* Ask the loop to stop.  Any thread; async-signal-safe. */
void daemon_request_stop(struct gpuvmd *d);
/*
 * Route SIGTERM and SIGINT to daemon_request_stop(d) and ignore SIGPIPE.
 * For the one daemon of a gpuvmd process, not for in-process tests.
 */
int daemon_handle_signals(struct gpuvmd *d);
/* Everything daemon_run() shuts down if it did not run, then the host, then the pidfile. */
void daemon_destroy(struct gpuvmd *d);

/* Paths and the host, for start-up messages, backends and tests. */
const char *daemon_socket_path(const struct gpuvmd *d);
const char *daemon_guest_socket_path(const struct gpuvmd *d);
struct gpuvm_host *daemon_host(struct gpuvmd *d);
/*
 * The --group whose members may use gpuvmd's sockets: true with its gid, or
 * false if there is none (then only root and gpuvmd's own user may).
 * Backends give their own sockets the same access.
 */
bool daemon_socket_group(const struct gpuvmd *d, unsigned *gid);
/* Total VRAM of the physical GPU. */
uint64_t daemon_gpu_vram(struct gpuvmd *d);
/* Check a --gpu spec without creating anything.  0, or -1 with a message. */
int daemon_check_gpu_spec(const char *spec, char *err, size_t errlen);

/* ---- Poll loop ----------------------------------------------------------------- */
/*
 * Called on the control thread with the poll revents of fd (POLLIN,
 * POLLOUT, POLLHUP, POLLERR...).  The callback may watch and unwatch any
 * fd, including its own; an fd unwatched during an iteration gets no
 * further callback from that iteration, even if its number is reused.
 */
typedef void (*daemon_fd_cb)(struct gpuvmd *d, int fd, short revents, void *arg);

/* Watch fd for events (POLLIN and/or POLLOUT).  0, or -1 (fd already watched, ENOMEM). */
int daemon_watch_fd(struct gpuvmd *d, int fd, short events, daemon_fd_cb cb, void *arg);
/* Change the events of a watched fd (e.g. add POLLOUT while output is queued). */
int daemon_watch_fd_events(struct gpuvmd *d, int fd, short events);
/* Stop watching fd; does not close it.  Unknown fds are ignored. */
void daemon_unwatch_fd(struct gpuvmd *d, int fd);

/* ---- vGPU registry --------------------------------------------------------------- */
/* Create a vGPU; its name must be new.  Returns it, or NULL with a message. */
struct vgpu *daemon_create_vgpu(struct gpuvmd *d, const struct vgpu_config *cfg,
				char *err, size_t errlen);
/* Destroy / reset the vGPU called name.  0, or -1 with a message (no such vGPU). */
int daemon_destroy_vgpu(struct gpuvmd *d, const char *name, char *err, size_t errlen);
int daemon_reset_vgpu(struct gpuvmd *d, const char *name, char *err, size_t errlen);
/* Destroy every vGPU, newest first (shutdown; tests). */
void daemon_destroy_all_vgpus(struct gpuvmd *d);
/* The vGPU called name, or NULL.  Control thread only. */
struct vgpu *daemon_find_vgpu(struct gpuvmd *d, const char *name);
/* The vGPUs in creation order: index 0..daemon_vgpu_count()-1. */
unsigned daemon_vgpu_count(const struct gpuvmd *d);
struct vgpu *daemon_vgpu_at(struct gpuvmd *d, unsigned index);

#endif
