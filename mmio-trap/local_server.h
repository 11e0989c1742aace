/*
 * The local backend's per-vGPU server: the shared ioreq page of one guest,
 * its two eventfds, and the thread that answers the guest's requests.
 *
 * One server per attached guest; its thread is the only caller of the
 * vGPU's MMIO handler.  The request path takes no lock and allocates
 * nothing: it spins briefly on the page, then sleeps in poll(2) on the
 * guest's eventfd and the guest's connection (whose end means the guest is
 * gone).  The guest owns the page and may write anything to it at any
 * time: every request is copied out once, validated, then acted on.
 */
#ifndef GPUVM_LOCAL_SERVER_H
#define GPUVM_LOCAL_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "gpuvm_local.h"
#include "vgpu_io.h"

/* The seam: production passes a wrapper of vgpu_mmio(), tests a fake. */
typedef void (*local_mmio_fn)(void *arg, struct vgpu_io *io);

/* Why a request was denied (index into local_server_stats.deny). */
enum local_deny {
	LOCAL_IO_OK = 0,
	LOCAL_DENY_TYPE,        /* not an MMIO (COPY) request */
	LOCAL_DENY_PTR,         /* data_is_ptr set */
	LOCAL_DENY_COUNT,       /* rep count != 1 */
	LOCAL_DENY_SIZE,        /* size not 1, 2, 4 or 8 */
	LOCAL_DENY_ADDR,        /* not inside BAR0, BAR1 or BAR3 */
	LOCAL_DENY_CROSS,       /* crosses a 4 KiB page */
	LOCAL_DENY_NR
};

const char *local_deny_name(enum local_deny why);

/*
 * Decode a request (a private copy) into *io.  Returns LOCAL_IO_OK, or the
 * reason it must be denied (then *io is untouched).  bar_size[n] is BARn's
 * size; a BAR of size 0 does not decode.  Pure: for tests.
 */
enum local_deny local_ioreq_decode(const struct gpuvm_ioreq *req, const uint64_t bar_size[4],
				   struct vgpu_io *io);

/* What a denied read returns: all ones in size bytes (a valid size), else all 64 bits. */
uint64_t local_deny_value(uint32_t size);

struct local_server_config {
	int sock;               /* the guest's connection (borrowed, not closed) */
	uint64_t bar_size[4];
	local_mmio_fn mmio;
	void *mmio_arg;
	/*
	 * Called from the server thread when it stops by itself because the
	 * guest went away (its connection ended); never after
	 * local_server_stop() asked it to stop.  Must only signal (e.g.
	 * write an eventfd): the owner then calls local_server_destroy().
	 */
	void (*on_guest_gone)(void *arg);
	void *gone_arg;
	unsigned spin_ns;       /* spin on the page this long before sleeping */
	const char *name;       /* for the thread's name */
};

struct local_server_stats {
	uint64_t requests;      /* READY requests taken */
	uint64_t reads, writes; /* of which handed to the handler */
	uint64_t denied;        /* of which denied */
	uint64_t deny[LOCAL_DENY_NR];
	uint64_t bad_state;     /* wake-ups that found a state the guest may not set */
	uint64_t sleeps;        /* times the thread blocked in poll */
	uint64_t notifies;      /* eventfd signals sent to a sleeping guest */
	uint64_t junk;          /* messages the guest sent on its connection afterwards */
};

struct local_server;

/*
 * Create the page (a sealed memfd mapped here) and the eventfds, and start
 * the thread.  0 or a negative errno.
 */
int local_server_create(const struct local_server_config *cfg, struct local_server **out);
/* The fds to hand the guest: ioreq memfd, TO_SERVER, TO_GUEST (still owned here). */
void local_server_fds(const struct local_server *s, int fds[3]);
/*
 * Stop the thread synchronously: set the stop flag, wake the thread (its
 * eventfd, and shutdown(2) of the guest's connection, which the guest
 * cannot undo), join it.  After this the handler is never called again.
 * Idempotent.  The guest sees its connection end.
 */
void local_server_stop(struct local_server *s);
/* True once the thread has stopped by itself because the guest went away. */
bool local_server_guest_gone(const struct local_server *s);
/* Stop (if needed) and free everything but the borrowed connection. */
void local_server_destroy(struct local_server *s);
void local_server_get_stats(const struct local_server *s, struct local_server_stats *out);

/* Spin time a server or client should use on this machine for a wanted time:
 * 0 when only one CPU is available (spinning would only delay the peer). */
unsigned local_spin_budget(unsigned want_ns);

#endif
