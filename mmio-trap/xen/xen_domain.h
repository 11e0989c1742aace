/*
 * Xen domains as gpuvmd sees them: name/id resolution through xenstore
 * (/local/domain/ID/name), liveness and vCPU count through libxenctrl,
 * guest type (HVM with qemu-xen, or PVH without a device model) through
 * libxl's /libxl/ID/type, and the record of the ioreq servers gpuvmd
 * created (/local/domain/0/gpuvmd/ioreq/ID = server id) so that a restarted
 * daemon can destroy those it left behind.  Control thread only.
 */
#ifndef GPUVM_XEN_DOMAIN_H
#define GPUVM_XEN_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XEN_DOMAIN_NAME_MAX     64
#define XEN_GPUVMD_XS_DIR       "/local/domain/0/gpuvmd/ioreq"

struct xen_domains;

enum xen_guest_type { XEN_GUEST_PV, XEN_GUEST_PVH, XEN_GUEST_HVM };

struct xen_domain_info {
	unsigned domid;
	char name[XEN_DOMAIN_NAME_MAX];
	unsigned nvcpus;                /* max_vcpu_id + 1 */
	enum xen_guest_type type;
};

/* Open xenstore and libxenctrl.  NULL with a message. */
struct xen_domains *xen_domains_open(char *err, size_t errlen);
void xen_domains_close(struct xen_domains *x);
/* xenstore's fd (for the poll loop) */
int xen_domains_fd(struct xen_domains *x);

/* "NAME" or a decimal domain id -> info.  0, or -1 with a message. */
int xen_domain_resolve(struct xen_domains *x, const char *spec, struct xen_domain_info *out,
		       char *err, size_t errlen);
/* The domain exists and is neither dying nor shut down. */
bool xen_domain_alive(struct xen_domains *x, unsigned domid);

/* Watch @releaseDomain (a domain died).  0 or -1. */
int xen_domains_watch_release(struct xen_domains *x);
/* Consume pending watch events; true if @releaseDomain fired. */
bool xen_domains_release_fired(struct xen_domains *x);

/* Record / forget an ioreq server gpuvmd created for domid. */
void xen_domains_record_server(struct xen_domains *x, unsigned domid, unsigned servid);
void xen_domains_forget_server(struct xen_domains *x, unsigned domid);
/*
 * The servers recorded by an earlier gpuvmd: calls fn for each (domain,
 * server) pair and removes the records.
 */
void xen_domains_take_stale(struct xen_domains *x,
			    void (*fn)(void *arg, unsigned domid, unsigned servid), void *arg);

#endif
