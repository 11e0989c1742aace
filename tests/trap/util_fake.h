/*
 * Test rig for the local trap backend: fake vGPUs behind struct
 * local_host_ops, a local_loop as the control thread, and a listener on a
 * socket in a fresh temporary directory.
 *
 * A fake vGPU has a BAR0 of byte-addressable registers (the first
 * FAKE_BAR0_BYTES bytes; beyond that reads return FAKE_UNBACKED), and BAR1
 * and BAR3 that reach its VRAM one to one (BAR offset o is VRAM o), so a
 * trapped BAR access and a direct one see the same bytes.  Its remap table
 * starts all zero (everything traps); tests set entries with fake_remap().
 * A vGPU whose name starts with "unsealed" has VRAM files created without
 * MFD_ALLOW_SEALING (as gpusim's are today).
 */
#ifndef TESTS_TRAP_UTIL_FAKE_H
#define TESTS_TRAP_UTIL_FAKE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "gpuvm_local.h"
#include "local_listener.h"
#include "local_loop.h"

#define FAKE_BAR0_BYTES   0x10000u
#define FAKE_UNBACKED     0xbadf5eedbadf5eedull
#define FAKE_VRAM         (2u << 20)
#define FAKE_PART         (1u << 20)      /* two parts */
#define FAKE_BAR1         (1u << 20)
#define FAKE_BAR3         (64u << 10)
#define FAKE_MAX_VGPUS    4

struct fake_vgpu {
	char name[GPUVM_LOCAL_NAME_MAX];
	struct fake_host *h;
	/* control thread */
	bool attached;
	void (*hook)(void *arg);
	void *hook_arg;
	int detaches;
	int hooks;
	/* server thread */
	uint8_t bar0[FAKE_BAR0_BYTES];
	uint64_t mmio_calls;            /* atomic */
	struct vgpu_io last;            /* last access seen (server thread) */
	int block;                      /* atomic: the next access blocks until released */
	int entered_fd, release_fd;     /* eventfds for a blocked access */
	/* export */
	bool sealable;                  /* backing files created with MFD_ALLOW_SEALING */
	int part_fd[2];
	int remap_fd;
	uint32_t *remap;                /* daemon's writable view */
	uint8_t *vram;                  /* daemon's view of the partition */
};

struct fake_host {
	char dir[64];
	char path[108];
	struct local_loop *loop;
	struct local_listener *lsn;
	struct local_host_ops ops;
	struct fake_vgpu v[FAKE_MAX_VGPUS];
	unsigned nv;
	pthread_mutex_t lock;
	pthread_cond_t cond;            /* signalled on every detach and hook */
	char lastlog[512];
};

/* Start a host with vGPUs named names[0..n-1] (n <= FAKE_MAX_VGPUS). */
void fake_host_start(struct fake_host *h, const char *const *names, unsigned n,
		     unsigned spin_ns);
/* Stop the listener (drops every guest), then everything else. */
void fake_listener_stop(struct fake_host *h);
void fake_host_stop(struct fake_host *h);
struct fake_vgpu *fake_vgpu(struct fake_host *h, const char *name);
/* Wait (bounded, 10 s) until v has seen want detaches; true on success. */
bool fake_wait_detaches(struct fake_vgpu *v, int want);
/* The daemon destroys v: on the control thread, call its detach hook. */
void fake_destroy(struct fake_vgpu *v);
/* Set the remap entry of BAR bar's page (BAR offset off) to VRAM page gpage, or trap (-1). */
void fake_remap(struct fake_vgpu *v, unsigned bar, uint64_t off, long gpage);
/* Snapshot of attached/detaches/hooks taken on the control thread. */
void fake_state(struct fake_vgpu *v, bool *attached, int *detaches, int *hooks);
/* Server statistics of v's guest (taken on the control thread); 0 or -ENOENT. */
int fake_stats(struct fake_host *h, const char *name, struct local_server_stats *out);

/* Arm v so that its next access blocks until fake_release(); fake_wait_entered waits for it. */
void fake_block_next(struct fake_vgpu *v);
bool fake_wait_entered(struct fake_vgpu *v);
void fake_release(struct fake_vgpu *v);

/* Bounded wait on an fd becoming readable (ms); true if it did. */
bool fake_wait_fd(int fd, int timeout_ms);

#endif
