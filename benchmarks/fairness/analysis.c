/*
 * What the samples say (fairness.h).  GPU time is charged by gpuvmd when a
 * submission completes, so a VM's figure moves in steps of one submission
 * (up to a kernel's length); spans are therefore taken between samples at
 * which the counters moved, and windows are long compared to a kernel.
 *
 *   the measurement: from ss->from (every VM has started and a warm-up
 *     window has passed) to the last sample before the first VM stopped;
 *     shares, Jain's index and the share error are measured over it.
 *   GPU utilization "while any VM has work": over the sampling intervals
 *     at whose both ends some VM had work queued or in flight.
 */
#include <math.h>
#include <string.h>

#include "fairness.h"

double fx_jain(const double *x, unsigned n)
{
	double sum = 0, sq = 0;

	for (unsigned i = 0; i < n; i++) {
		sum += x[i];
		sq += x[i] * x[i];
	}
	return sq > 0 ? sum * sum / (n * sq) : 1.0;
}

void fx_targets(const struct fx_config *cfg, double *target)
{
	bool fixed[FX_MAX_VMS] = { false };
	double left = 1.0, total = 0;
	bool changed = true;

	/* Water-filling: split what is left by weight; a VM over its cap gets the cap. */
	while (changed) {
		double w = 0;

		changed = false;
		for (unsigned i = 0; i < cfg->nvms; i++)
			if (!fixed[i])
				w += cfg->vm[i].weight;
		for (unsigned i = 0; i < cfg->nvms; i++) {
			double cap = cfg->vm[i].cap / 100.0;

			if (fixed[i])
				continue;
			target[i] = w > 0 ? left * cfg->vm[i].weight / w : 0;
			if (cap > 0 && target[i] > cap + 1e-12) {
				target[i] = cap;
				fixed[i] = true;
				left -= cap;
				changed = true;
				break;
			}
		}
	}
	/* Everybody capped below 100% in all: shares of the GPU time used. */
	for (unsigned i = 0; i < cfg->nvms; i++)
		total += target[i];
	for (unsigned i = 0; total > 0 && i < cfg->nvms; i++)
		target[i] /= total;
}

/* First and last sample at which VM i's GPU time grew; false if it never did. */
static bool vm_span(const struct fx_samples *ss, unsigned i, size_t *first, size_t *last)
{
	bool seen = false;

	for (size_t k = 1; k < ss->n; k++) {
		if (ss->s[k].gpu_ns[i] <= ss->s[k - 1].gpu_ns[i])
			continue;
		if (!seen)
			*first = k;
		*last = k;
		seen = true;
	}
	return seen;
}

static double busy_ratio(const struct fx_samples *ss, size_t a, size_t b)
{
	double dt = ss->s[b].t - ss->s[a].t;

	return dt > 0 ? (double)(ss->s[b].busy_ns - ss->s[a].busy_ns) / 1e9 / dt : 0;
}

static uint64_t vm_delta(const struct fx_samples *ss, size_t a, size_t b, unsigned i)
{
	return ss->s[b].gpu_ns[i] - ss->s[a].gpu_ns[i];
}

/* Keep the three least fair windows, worst first. */
static void note_worst(struct fx_result *r, double t, double jain, double busy)
{
	unsigned n = sizeof(r->worst) / sizeof(r->worst[0]), i;

	for (i = r->nworst; i > 0 && r->worst[i - 1].jain > jain; i--)
		if (i < n)
			r->worst[i] = r->worst[i - 1];
	if (i < n) {
		r->worst[i] = (struct fx_window){ t, jain, busy };
		if (r->nworst < n)
			r->nworst++;
	}
}

/* Jain's index on weight-normalised GPU time, per window_ms window of the all-busy span. */
static void jain_windows(const struct fx_config *cfg, const struct fx_samples *ss,
			 struct fx_result *r)
{
	double win = cfg->window_ms / 1e3, sum = 0;

	r->windows = 0;
	r->jain_min = 1;
	for (size_t a = r->all_from, b; a < r->all_to; a = b) {
		double x[FX_MAX_VMS];

		for (b = a + 1; b < r->all_to && ss->s[b].t - ss->s[a].t < win - 1e-3; b++)
			;
		if (ss->s[b].t - ss->s[a].t < win * 0.9)
			break;          /* the last, short window */
		for (unsigned i = 0; i < cfg->nvms; i++)
			x[i] = (double)vm_delta(ss, a, b, i) / r->target[i];
		double j = fx_jain(x, cfg->nvms);

		r->jain_min = fmin(r->jain_min, j);
		sum += j;
		r->windows++;
		r->windows_fair += j >= 0.99;
		note_worst(r, ss->s[a].t - ss->s[0].t, j, busy_ratio(ss, a, b));
	}
	r->jain_mean = r->windows ? sum / r->windows : 0;
}

/* Find the spans; false (with r->why) if the VMs never all ran together. */
static bool find_spans(const struct fx_config *cfg, const struct fx_samples *ss,
		       struct fx_result *r)
{
	bool any = false;

	r->all_from = 0;
	r->all_to = ss->n;
	for (unsigned i = 0; i < cfg->nvms; i++) {
		size_t first = 0, last = 0;

		if (!vm_span(ss, i, &first, &last)) {
			r->why = "a VM was never charged any GPU time";
			return false;
		}
		if (first > r->all_from)
			r->all_from = first;
		if (last - 1 < r->all_to)
			r->all_to = last - 1;
		if (!any || first < r->any_from)
			r->any_from = first;
		if (!any || last > r->any_to)
			r->any_to = last;
		any = true;
	}
	if (ss->from > r->all_from)
		r->all_from = ss->from;
	if (r->all_to <= r->all_from || r->any_to <= r->any_from) {
		r->why = "the VMs never had work at the same time";
		return false;
	}
	r->all_secs = ss->s[r->all_to].t - ss->s[r->all_from].t;
	return true;
}

static bool has_work(const struct fx_config *cfg, const struct fx_sample *s)
{
	for (unsigned i = 0; i < cfg->nvms; i++)
		if (s->queued[i] || s->in_flight[i])
			return true;
	return false;
}

/* Busy GPU time over the intervals in which some VM had work all along. */
static double util_while_work(const struct fx_config *cfg, const struct fx_samples *ss,
			      struct fx_result *r)
{
	double busy = 0, wall = 0;

	for (size_t k = r->any_from + 1; k <= r->any_to; k++) {
		const struct fx_sample *a = &ss->s[k - 1], *b = &ss->s[k];

		if (!has_work(cfg, a) || !has_work(cfg, b))
			continue;
		busy += (double)(b->busy_ns - a->busy_ns) / 1e9;
		wall += b->t - a->t;
	}
	r->any_secs = wall;
	return wall > 0 ? busy / wall : 0;
}

static void shares(const struct fx_config *cfg, const struct fx_samples *ss, struct fx_result *r)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < cfg->nvms; i++)
		total += vm_delta(ss, r->all_from, r->all_to, i);
	r->max_err_pts = 0;
	for (unsigned i = 0; i < cfg->nvms; i++) {
		const struct fx_sample *s0 = &ss->s[0], *s1 = &ss->s[ss->n - 1];
		uint64_t rel = s1->vm_releases[i] - s0->vm_releases[i];

		r->share[i] = total ? (double)vm_delta(ss, r->all_from, r->all_to, i) / total : 0;
		r->err_pts[i] = (r->share[i] - r->target[i]) * 100;
		r->max_err_pts = fmax(r->max_err_pts, fabs(r->err_pts[i]));
		r->gpu_s[i] = (double)(s1->gpu_ns[i] - s0->gpu_ns[i]) / 1e9;
		r->releases[i] = rel;
		r->wait_us[i] = rel ? (double)(s1->wait_ns[i] - s0->wait_ns[i]) / rel / 1e3 : 0;
	}
}

void fx_analyse(const struct fx_config *cfg, const struct fx_samples *ss, struct fx_result *r)
{
	const struct fx_sample *s0, *s1;

	memset(r, 0, sizeof(*r));
	fx_targets(cfg, r->target);
	if (ss->n < 3) {
		r->why = "too few samples";
		return;
	}
	s0 = &ss->s[0];
	s1 = &ss->s[ss->n - 1];
	r->decisions = s1->decisions - s0->decisions;
	r->total_releases = s1->releases - s0->releases;
	r->ns_per_decision = r->decisions ? (double)(s1->decision_ns - s0->decision_ns) /
					     r->decisions : 0;
	r->ns_per_release = r->total_releases ? (double)(s1->decision_ns - s0->decision_ns) /
						 r->total_releases : 0;
	if (!find_spans(cfg, ss, r))
		return;
	shares(cfg, ss, r);
	r->util_all = busy_ratio(ss, r->all_from, r->all_to);
	r->util_any = util_while_work(cfg, ss, r);
	jain_windows(cfg, ss, r);
	r->ok = true;
}

bool fx_window_shares(const struct fx_config *cfg, const struct fx_samples *ss, size_t i,
		      double *share)
{
	double win = cfg->window_ms / 1e3;
	uint64_t total = 0;
	size_t a = i;

	while (a > 0 && ss->s[i].t - ss->s[a].t < win - 1e-3)
		a--;
	if (a == i || ss->s[i].t - ss->s[a].t < win * 0.9)
		return false;
	for (unsigned k = 0; k < cfg->nvms; k++)
		total += vm_delta(ss, a, i, k);
	if (!total)
		return false;
	for (unsigned k = 0; k < cfg->nvms; k++)
		share[k] = (double)vm_delta(ss, a, i, k) / total;
	return true;
}
