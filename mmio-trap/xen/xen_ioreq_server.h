/*
 * One Xen ioreq server: the vGPU of one domain.  Created on the control
 * thread; then its own thread serves the domain's ioreqs (one event channel
 * per vCPU plus the buffered ring's), so a guest that blocks never holds up
 * another.  See docs/xen-backend.md.
 */
#ifndef GPUVM_XEN_IOREQ_SERVER_H
#define GPUVM_XEN_IOREQ_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xen_ioreq_decode.h"
#include "xen_vpci.h"

struct xen_ioreq_server;

struct xen_ioreq_server_config {
	unsigned domid;
	unsigned nvcpus;
	bool claim_cf8;                 /* PVH: no device model owns 0xcf8 */
	struct xen_vpci_config pci;
	xen_ioreq_mmio_fn mmio;         /* called on the server's thread */
	void *mmio_arg;
};

struct xen_ioreq_server_stats {
	uint64_t handled, denied, buffered;
	uint64_t wakeups;       /* times the thread woke to serve */
	uint64_t serve_ns;      /* time spent serving requests (decode + vGPU) */
};

/*
 * Create the server, claim the device (its SBDF, and 0xcf8-0xcfb for PVH),
 * map the ioreq pages, bind the event channels, enable it and start its
 * thread.  NULL with a message; nothing is left behind.
 */
struct xen_ioreq_server *xen_ioreq_server_start(const struct xen_ioreq_server_config *cfg,
						char *err, size_t errlen);
/* The server id Xen gave (for the stale-server record). */
unsigned xen_ioreq_server_id(const struct xen_ioreq_server *s);
/*
 * Disable the server, let the thread answer what is in flight and wait
 * until the guest has taken every response (bounded), then stop the thread
 * and destroy the server.  After it returns, mmio is never called again.
 */
void xen_ioreq_server_stop(struct xen_ioreq_server *s);
void xen_ioreq_server_stats(struct xen_ioreq_server *s, struct xen_ioreq_server_stats *out);

/* Destroy a server an earlier gpuvmd left behind.  0 or -1. */
int xen_ioreq_server_destroy_stale(unsigned domid, unsigned servid);

#endif
