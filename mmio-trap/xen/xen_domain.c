/*
 * Xen domains: xenstore and libxenctrl queries for the Xen backend (see
 * xen_domain.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenctrl.h>
#include <xenstore.h>

#include "xen_domain.h"

#define RELEASE_TOKEN "gpuvmd-release"

struct xen_domains {
	struct xs_handle *xs;
	xc_interface *xc;
};

struct xen_domains *xen_domains_open(char *err, size_t errlen)
{
	struct xen_domains *x = calloc(1, sizeof(*x));

	if (!x) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	x->xs = xs_open(0);
	if (!x->xs) {
		snprintf(err, errlen, "not running in a Xen dom0: cannot open xenstore (%s)",
			 strerror(errno));
		free(x);
		return NULL;
	}
	x->xc = xc_interface_open(NULL, NULL, 0);
	if (!x->xc) {
		snprintf(err, errlen, "not running in a Xen dom0: cannot open the Xen control "
			 "interface (%s); gpuvmd --backend xen runs as root in dom0", strerror(errno));
		xs_close(x->xs);
		free(x);
		return NULL;
	}
	return x;
}

void xen_domains_close(struct xen_domains *x)
{
	if (!x)
		return;
	xs_unwatch(x->xs, "@releaseDomain", RELEASE_TOKEN);
	xs_close(x->xs);
	xc_interface_close(x->xc);
	free(x);
}

int xen_domains_fd(struct xen_domains *x)
{
	return xs_fileno(x->xs);
}

static char *xs_get(struct xen_domains *x, const char *fmt, unsigned domid)
{
	char path[128];
	unsigned len;

	snprintf(path, sizeof(path), fmt, domid);
	return xs_read(x->xs, XBT_NULL, path, &len);
}

static bool dominfo(struct xen_domains *x, unsigned domid, xc_dominfo_t *info)
{
	return xc_domain_getinfo(x->xc, domid, 1, info) == 1 && info->domid == domid;
}

bool xen_domain_alive(struct xen_domains *x, unsigned domid)
{
	xc_dominfo_t info;

	return dominfo(x, domid, &info) && !info.dying && !info.shutdown;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static int find_by_name(struct xen_domains *x, const char *name, unsigned *domid)
{
	unsigned n = 0;
	char **ids = xs_directory(x->xs, XBT_NULL, "/local/domain", &n);
	int found = -1;

	for (unsigned i = 0; ids && i < n; i++) {
		char *end;
		unsigned long id = strtoul(ids[i], &end, 10);
		char *dn;

		if (*end || id > 0x7fef)
			continue;
		dn = xs_get(x, "/local/domain/%u/name", (unsigned)id);
		if (dn && !strcmp(dn, name)) {
			*domid = (unsigned)id;
			found = 0;
		}
		free(dn);
		if (!found)
			break;
	}
	free(ids);
	return found;
}

static enum xen_guest_type guest_type(struct xen_domains *x, unsigned domid, bool hvm)
{
	char *t;
	enum xen_guest_type type;

	if (!hvm)
		return XEN_GUEST_PV;
	/* libxl records the type it built; PVH has no device model. */
	t = xs_get(x, "/libxl/%u/type", domid);
	if (t) {
		type = !strcmp(t, "pvh") ? XEN_GUEST_PVH : XEN_GUEST_HVM;
		free(t);
		return type;
	}
	t = xs_get(x, "/local/domain/0/device-model/%u/state", domid);
	type = t ? XEN_GUEST_HVM : XEN_GUEST_PVH;
	free(t);
	return type;
}

int xen_domain_resolve(struct xen_domains *x, const char *spec, struct xen_domain_info *out,
		       char *err, size_t errlen)
{
	xc_dominfo_t info;
	unsigned domid = 0;
	char *name;

	memset(out, 0, sizeof(*out));
	if (all_digits(spec)) {
		unsigned long id = strtoul(spec, NULL, 10);

		if (id == 0 || id > 0x7fef) {
			snprintf(err, errlen, "domain %s: not a guest domain id", spec);
			return -1;
		}
		domid = (unsigned)id;
	} else if (find_by_name(x, spec, &domid)) {
		snprintf(err, errlen, "no domain named '%s' (xenstore /local/domain/*/name)", spec);
		return -1;
	}
	if (domid == 0) {
		snprintf(err, errlen, "domain '%s' is dom0, which cannot have a vGPU", spec);
		return -1;
	}
	if (!dominfo(x, domid, &info)) {
		snprintf(err, errlen, "no domain with id %u", domid);
		return -1;
	}
	if (info.dying || info.shutdown) {
		snprintf(err, errlen, "domain %u is shutting down", domid);
		return -1;
	}
	out->domid = domid;
	out->nvcpus = info.max_vcpu_id + 1;
	out->type = guest_type(x, domid, info.hvm);
	name = xs_get(x, "/local/domain/%u/name", domid);
	snprintf(out->name, sizeof(out->name), "%s", name ? name : "");
	free(name);
	return 0;
}

int xen_domains_watch_release(struct xen_domains *x)
{
	return xs_watch(x->xs, "@releaseDomain", RELEASE_TOKEN) ? 0 : -1;
}

bool xen_domains_release_fired(struct xen_domains *x)
{
	bool fired = false;
	char **ev;

	while ((ev = xs_check_watch(x->xs))) {
		if (!strcmp(ev[XS_WATCH_TOKEN], RELEASE_TOKEN))
			fired = true;
		free(ev);
	}
	return fired;
}

void xen_domains_record_server(struct xen_domains *x, unsigned domid, unsigned servid)
{
	char path[128], val[32];

	snprintf(path, sizeof(path), XEN_GPUVMD_XS_DIR "/%u", domid);
	snprintf(val, sizeof(val), "%u", servid);
	xs_write(x->xs, XBT_NULL, path, val, (unsigned)strlen(val));
}

void xen_domains_forget_server(struct xen_domains *x, unsigned domid)
{
	char path[128];

	snprintf(path, sizeof(path), XEN_GPUVMD_XS_DIR "/%u", domid);
	xs_rm(x->xs, XBT_NULL, path);
}

void xen_domains_take_stale(struct xen_domains *x,
			    void (*fn)(void *arg, unsigned domid, unsigned servid), void *arg)
{
	unsigned n = 0;
	char **ids = xs_directory(x->xs, XBT_NULL, XEN_GPUVMD_XS_DIR, &n);

	for (unsigned i = 0; ids && i < n; i++) {
		char *end, *v;
		unsigned long domid = strtoul(ids[i], &end, 10);

		if (*end)
			continue;
		v = xs_get(x, XEN_GPUVMD_XS_DIR "/%u", (unsigned)domid);
		if (v) {
			unsigned long servid = strtoul(v, &end, 10);

			if (!*end && servid <= 0xffff && xen_domain_alive(x, (unsigned)domid))
				fn(arg, (unsigned)domid, (unsigned)servid);
			free(v);
		}
		xen_domains_forget_server(x, (unsigned)domid);
	}
	free(ids);
}
