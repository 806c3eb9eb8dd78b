/* rnn.c - GRU and LSTM layers with a hand-written backward through time, the gather of
 * each sequence's last state, and the dropout applied between stacked layers.
 *
 * A layer is two tape nodes: dc_linear projects the inputs of all B*T steps at once
 * (one sgemm [B*T,I] x [I,G*H] forward, one for dW_ih and one for dx backward), then
 * the "rnn" node below runs the recurrence. The batch is walked in the order of
 * pack_padded_sequence: rows sorted longest first, so at step t the rows still running
 * are the first active[t] of that order and each step's recurrent product is one sgemm
 * over a contiguous block; rows whose sequence has ended simply drop out, which keeps
 * their state frozen and padding out of every result. Everything the backward needs is
 * stored "packed", one block of active[t] rows per step, so dW_hh is one sgemm over all
 * steps. With several threads, each owns a slice of the hidden units through the whole
 * time loop (see unit_slice). Gates use exp and tanh approximations within ~2 ulp.
 * Bidirectional layers and proj_size are left out; the module is src/nn/rnn.c. */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "deepc/rnn.h"
#include "ops/tape.h"

/* The walking order of one batch. Position i holds batch row perm[i]. */
typedef struct rnn_plan {
    int batch, time, hidden, gates;  /* B, T, H, G */
    int steps;                       /* the longest length */
    int *perm;                       /* [B] rows, longest first, ties in row order */
    int *active;                     /* [steps] positions still running at step t */
    size_t *off;                     /* [steps+1] first packed row of step t */
} rnn_plan;

/* What the forward keeps for the backward; N = off[steps] packed rows. */
typedef struct rnn_saved {
    dc_rnn_kind kind;
    rnn_plan plan;
    float *hprev;   /* [N,H] h_{t-1}; block 0 is the zero initial state */
    float *gates;   /* [N,G*H] GRU: r, z, W_hn h + b_hn; LSTM: i, f, g, o */
    float *cand;    /* GRU [N,H]: n */
    float *cprev;   /* LSTM [N,H]: c_{t-1} */
    float *tanh_c;  /* LSTM [N,H]: tanh(c_t) */
} rnn_saved;

static const char *kind_name(dc_rnn_kind kind)
{
    return kind == DC_RNN_KIND_GRU ? "gru" : "lstm";
}

/* e^x without a library call, so the gate loops vectorise (glibc's tanhf alone was half
 * the forward). Cephes' method: x = n ln2 + r with |r| <= ln2/2 (ln2 split in two for
 * exactness), e^r by a degree-7 polynomial, 2^n written into the exponent bits. Inputs
 * are clamped to [-87, 88], where 2^n stays a normal float. Relative error ~2 ulp;
 * PyTorch's Sleef kernels are within 1 ulp, so the two agree to ~1e-7. */
static inline float exp_approx(float x)
{
    float n, r, p;
    int32_t bits;
    float scale;

    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;  /* round(x / ln2), 1.5*2^23 */
    r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    /* A NaN input stays NaN through p; only the conversion must not see it. */
    bits = ((int32_t)(n == n ? n : 0.0f) + 127) << 23;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float sigmoidf(float x)
{
    return 1.0f / (1.0f + exp_approx(-x));
}

/* tanh as Cephes' tanhf: an odd polynomial below |x| = 0.625, where 1 - 2/(e^2x + 1)
 * would lose relative precision, and that formula above. Both are computed and one is
 * selected, so the loop stays branch-free. */
static inline float tanh_approx(float x)
{
    float z = x * x, small, large;

    small = -5.70498872745e-3f;
    small = small * z + 2.06390887954e-2f;
    small = small * z - 5.37397155531e-2f;
    small = small * z + 1.33314422036e-1f;
    small = small * z - 3.33332819422e-1f;
    small = small * z * x + x;
    large = 1.0f - 2.0f / (exp_approx(2.0f * x) + 1.0f);
    return z < 0.625f * 0.625f ? small : large;
}

static inline int length_of(const int *lengths, int b, int time)
{
    return lengths ? lengths[b] : time;
}

/* ---- checks ---- */

static dc_status check_lengths(const char *op, const int *lengths, int batch, int time)
{
    for (int b = 0; lengths && b < batch; b++)
        if (lengths[b] < 1 || lengths[b] > time)
            return dc_fail(DC_ERR_ARG, "%s: lengths[%d] = %d, expected 1 to %d (T)", op, b,
                           lengths[b], time);
    return DC_OK;
}

static int is_vector(const dc_tensor *t, int n)
{
    return t->ndim == 1 && t->shape[0] == n;
}

/* x [B,T,I], w_ih [G*H,I], w_hh [G*H,H], biases [G*H] or NULL. */
static dc_status check_rnn(dc_rnn_kind kind, const dc_tensor *x, const dc_tensor *w_ih,
                           const dc_tensor *w_hh, const dc_tensor *b_ih,
                           const dc_tensor *b_hh)
{
    char sx[64], si[64], sh[64];
    int g = kind == DC_RNN_KIND_GRU ? 3 : 4, gh, in;

    if (kind != DC_RNN_KIND_GRU && kind != DC_RNN_KIND_LSTM)
        return dc_fail(DC_ERR_ARG, "rnn: kind %d, expected DC_RNN_KIND_GRU or _LSTM",
                       (int)kind);
    if (!x || !w_ih || !w_hh)
        return dc_fail(DC_ERR_ARG, "%s: x, weight_ih and weight_hh must not be NULL",
                       kind_name(kind));
    gh = w_hh->ndim == 2 ? g * w_hh->shape[1] : -1;
    in = x->ndim == 3 ? x->shape[2] : -1;
    if (x->ndim != 3 || w_hh->ndim != 2 || w_hh->shape[0] != gh || w_ih->ndim != 2
        || w_ih->shape[0] != gh || w_ih->shape[1] != in)
        return dc_fail(DC_ERR_SHAPE, "%s: input %s, weight_ih %s, weight_hh %s do not fit, "
                       "expected [B,T,I], [%dH,I], [%dH,H]", kind_name(kind),
                       dc_shape_str(x, sx, sizeof sx), dc_shape_str(w_ih, si, sizeof si),
                       dc_shape_str(w_hh, sh, sizeof sh), g, g);
    if ((b_ih && !is_vector(b_ih, gh)) || (b_hh && !is_vector(b_hh, gh)))
        return dc_fail(DC_ERR_SHAPE, "%s: bias_ih %s, bias_hh %s, expected [%d] each",
                       kind_name(kind), b_ih ? dc_shape_str(b_ih, si, sizeof si) : "none",
                       b_hh ? dc_shape_str(b_hh, sh, sizeof sh) : "none", gh);
    return DC_OK;
}

/* ---- the walking order ---- */

/* Rows grouped by length, longest first, equal lengths in row order (one pass per
 * length: B*T is small next to the step it plans). */
static void plan_build(rnn_plan *p, int batch, int time, int hidden, int gates,
                       const int *lengths)
{
    int k = 0, a = batch;

    p->batch = batch, p->time = time, p->hidden = hidden, p->gates = gates;
    p->steps = 0;
    for (int b = 0; b < batch; b++)
        if (length_of(lengths, b, time) > p->steps)
            p->steps = length_of(lengths, b, time);
    p->perm = dc_arena_alloc((size_t)batch * sizeof(int));
    p->active = dc_arena_alloc((size_t)p->steps * sizeof(int));
    p->off = dc_arena_alloc((size_t)(p->steps + 1) * sizeof(size_t));
    for (int len = p->steps; len >= 1; len--)
        for (int b = 0; b < batch; b++)
            if (length_of(lengths, b, time) == len)
                p->perm[k++] = b;

    /* Position i runs at step t while its length exceeds t. */
    p->off[0] = 0;
    for (int t = 0; t < p->steps; t++) {
        while (a > 0 && length_of(lengths, p->perm[a - 1], time) <= t)
            a--;
        p->active[t] = a;
        p->off[t + 1] = p->off[t] + (size_t)a;
    }
}

static float *arena_floats(size_t n)
{
    return dc_arena_alloc(n * sizeof(float));
}

static rnn_saved *saved_new(dc_rnn_kind kind, int batch, int time, int hidden,
                            const int *lengths)
{
    rnn_saved *s = dc_arena_alloc(sizeof *s);
    int g = kind == DC_RNN_KIND_GRU ? 3 : 4;
    size_t n, h = (size_t)hidden;

    memset(s, 0, sizeof *s);
    s->kind = kind;
    plan_build(&s->plan, batch, time, hidden, g, lengths);
    n = s->plan.off[s->plan.steps];
    s->hprev = arena_floats(n * h);
    s->gates = arena_floats(n * h * (size_t)g);
    memset(s->hprev, 0, (size_t)batch * h * sizeof(float));
    if (kind == DC_RNN_KIND_GRU) {
        s->cand = arena_floats(n * h);
    } else {
        s->cprev = arena_floats(n * h);
        s->tanh_c = arena_floats(n * h);
        memset(s->cprev, 0, (size_t)batch * h * sizeof(float));
    }
    return s;
}

/* ---- threads ---- */

/* Multiply-adds per step of the recurrent product from which splitting the units among
 * threads pays for a barrier per step. */
#define PAR_MIN_WORK 32768

/* The step loops run inside one parallel region, each thread owning a slice of the
 * hidden units with a barrier per step: one synchronisation per step, where a threaded
 * sgemm plus a threaded gate loop would take four, each a chance to wait for a thread
 * the OS has descheduled. The sgemms then run single-threaded (OpenBLAS does so inside
 * a parallel region). Thread tid of nth owns units [*j0, *j1): equal chunks rounded up
 * to 16 floats, a cache line. Trailing threads may own none; they still meet every
 * barrier. */
static void unit_slice(int hidden, int tid, int nth, int *j0, int *j1)
{
    int chunk = ((hidden + nth - 1) / nth + 15) / 16 * 16;

    *j0 = tid * chunk < hidden ? tid * chunk : hidden;
    *j1 = *j0 + chunk < hidden ? *j0 + chunk : hidden;
}

static int use_threads(const rnn_plan *p)
{
    return (long)p->batch * p->gates * p->hidden * p->hidden >= PAR_MIN_WORK;
}

static size_t fbytes(int n)
{
    return (size_t)n * sizeof(float);
}

/* ---- forward ---- */

/* Units [j0,j1) of every gate in block t = b_hh + h_{t-1} W_hh^T for the active rows:
 * [n,H] x [H,cnt] per gate, or one [n,H] x [H,G*H] when one thread owns every unit. At
 * t = 0 the state is zero and only the bias is left. */
static void recurrent_product(const rnn_saved *s, const float *w_hh, const float *b_hh,
                              int t, int j0, int j1)
{
    const rnn_plan *p = &s->plan;
    int n = p->active[t], h = p->hidden, gh = p->gates * h, cnt = j1 - j0;
    float *out = s->gates + p->off[t] * gh;
    const float *hp = s->hprev + p->off[t] * h;

    for (int i = 0; i < n; i++)
        for (int q = 0; q < p->gates; q++) {
            float *dst = out + (size_t)i * gh + q * h + j0;
            if (b_hh)
                memcpy(dst, b_hh + q * h + j0, fbytes(cnt));
            else
                memset(dst, 0, fbytes(cnt));
        }
    if (t == 0 || cnt == 0)
        return;
    if (cnt == h) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, gh, h, 1.0f, hp, h, w_hh,
                    h, 1.0f, out, gh);
        return;
    }
    for (int q = 0; q < p->gates; q++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, cnt, h, 1.0f, hp, h,
                    w_hh + (size_t)(q * h + j0) * h, h, 1.0f, out + q * h + j0, gh);
}

/* cnt units of one GRU row; gate q of a unit sits q*h further on. x: projected inputs;
 * g: in, b_hh + W_hh h; out, r, z and W_hn h + b_hn (kept for the backward); cand: n;
 * hp: h_{t-1}; out: h_t. Separate restrict pointers let the loop vectorise. */
static void gru_row(const float *restrict x, float *restrict g, float *restrict cand,
                    const float *restrict hp, float *restrict out, int h, int cnt)
{
    for (int j = 0; j < cnt; j++) {
        float r = sigmoidf(x[j] + g[j]);
        float z = sigmoidf(x[h + j] + g[h + j]);
        float nn = tanh_approx(x[2 * h + j] + r * g[2 * h + j]);
        g[j] = r, g[h + j] = z, cand[j] = nn;
        out[j] = (1.0f - z) * nn + z * hp[j];
    }
}

/* Units [j0,j1) of GRU step t. xp [B*T,3H] holds x W_ih^T + b_ih; seq [B,T,H] receives
 * h_t, and so does the next step's h_{t-1} block for rows that go on. */
static void gru_step(const rnn_saved *s, const float *xp, float *seq, int t, int j0,
                     int j1)
{
    const rnn_plan *p = &s->plan;
    int h = p->hidden, gh = 3 * h, n = p->active[t];
    int n_next = t + 1 < p->steps ? p->active[t + 1] : 0;

    for (int i = 0; i < n; i++) {
        size_t row = (size_t)p->perm[i] * p->time + t, pk = p->off[t] + i;
        float *out = seq + row * h + j0;
        gru_row(xp + row * gh + j0, s->gates + pk * gh + j0, s->cand + pk * h + j0,
                s->hprev + pk * h + j0, out, h, j1 - j0);
        if (i < n_next)
            memcpy(s->hprev + (p->off[t + 1] + i) * h + j0, out, fbytes(j1 - j0));
    }
}

/* cnt units of one LSTM row: x projected inputs; g: in, b_hh + W_hh h; out, i, f, g, o;
 * cp: c_{t-1}; c: c_t; tc: tanh(c_t); out: h_t. */
static void lstm_row(const float *restrict x, float *restrict g, const float *restrict cp,
                     float *restrict c, float *restrict tc, float *restrict out, int h,
                     int cnt)
{
    for (int j = 0; j < cnt; j++) {
        float ig = sigmoidf(x[j] + g[j]);
        float fg = sigmoidf(x[h + j] + g[h + j]);
        float gg = tanh_approx(x[2 * h + j] + g[2 * h + j]);
        float og = sigmoidf(x[3 * h + j] + g[3 * h + j]);
        float cell = fg * cp[j] + ig * gg;
        g[j] = ig, g[h + j] = fg, g[2 * h + j] = gg, g[3 * h + j] = og;
        c[j] = cell;
        tc[j] = tanh_approx(cell);
        out[j] = og * tc[j];
    }
}

/* Units [j0,j1) of LSTM step t; as gru_step, with the cell state carried in cprev. A
 * row that ends here writes its c_t to c_spare [B,H] instead: nothing reads it again. */
static void lstm_step(const rnn_saved *s, const float *xp, float *seq, float *c_spare,
                      int t, int j0, int j1)
{
    const rnn_plan *p = &s->plan;
    int h = p->hidden, gh = 4 * h, n = p->active[t];
    int n_next = t + 1 < p->steps ? p->active[t + 1] : 0;

    for (int i = 0; i < n; i++) {
        size_t row = (size_t)p->perm[i] * p->time + t, pk = p->off[t] + i;
        float *out = seq + row * h + j0;
        float *c = i < n_next ? s->cprev + (p->off[t + 1] + i) * h : c_spare + (size_t)i * h;
        lstm_row(xp + row * gh + j0, s->gates + pk * gh + j0, s->cprev + pk * h + j0,
                 c + j0, s->tanh_c + pk * h + j0, out, h, j1 - j0);
        if (i < n_next)
            memcpy(s->hprev + (p->off[t + 1] + i) * h + j0, out, fbytes(j1 - j0));
    }
}

/* The time loop over units [j0,j1); the barrier is a no-op when no team runs it. */
static void forward_units(const rnn_saved *s, const float *w_hh, const float *b_hh,
                          const float *xp, float *seq, float *c_spare, int j0, int j1)
{
    for (int t = 0; t < s->plan.steps; t++) {
        recurrent_product(s, w_hh, b_hh, t, j0, j1);
        if (s->kind == DC_RNN_KIND_GRU)
            gru_step(s, xp, seq, t, j0, j1);
        else
            lstm_step(s, xp, seq, c_spare, t, j0, j1);
        /* Step t+1's product reads every unit of h_t. */
        #pragma omp barrier
    }
}

/* Small problems run outside any parallel region, not in a one-thread one: inside an
 * inactive region OpenBLAS would start a fresh nested team for every sgemm. */
static void run_forward(const rnn_saved *s, const float *w_hh, const float *b_hh,
                        const float *xp, float *seq, float *c_spare)
{
    if (!use_threads(&s->plan) || dc_get_threads() < 2) {
        forward_units(s, w_hh, b_hh, xp, seq, c_spare, 0, s->plan.hidden);
        return;
    }

    #pragma omp parallel
    {
        int j0, j1;
        unit_slice(s->plan.hidden, omp_get_thread_num(), omp_get_num_threads(), &j0, &j1);
        forward_units(s, w_hh, b_hh, xp, seq, c_spare, j0, j1);
    }
}

/* ---- backward ---- */

/* Scratch of the backward: dgates [N,G*H] (d of the pre-activations on the W_hh side),
 * and the running dh, dc [B,H] by position, zero until a row's last step is reached. */
typedef struct rnn_grads {
    float *dgates;
    float *dh;
    float *dc;
    float *dxp;        /* [B*T,G*H] gradient of the projected inputs, or NULL */
    const float *dseq; /* [B,T,H] gradient of the output sequence */
} rnn_grads;

/* cnt units of one GRU row backward. In: dh (d h_t from step t+1), ds (d h_t from the
 * output), the saved g (r, z, W_hn h + b_hn), cand (n), hp (h_{t-1}). Out: dg, the
 * pre-activation gradients on the W_hh side (where the n part is scaled by r), dx += those
 * on the W_ih side (NULL: not wanted), dh := dh * z, the part that skips W_hh. */
static void gru_row_back(float *restrict dh, const float *restrict ds,
                         const float *restrict g, const float *restrict cand,
                         const float *restrict hp, float *restrict dg, float *restrict dx,
                         int h, int cnt)
{
    for (int j = 0; j < cnt; j++) {
        float dy = dh[j] + ds[j], r = g[j], z = g[h + j], nn = cand[j];
        float dn = dy * (1.0f - z) * (1.0f - nn * nn);
        float dz = dy * (hp[j] - nn) * z * (1.0f - z);
        float dr = dn * g[2 * h + j] * r * (1.0f - r);
        dg[j] = dr, dg[h + j] = dz, dg[2 * h + j] = dn;
        dh[j] = dy * z;
    }

    /* Plain passes rather than one loop with a branch, which would not vectorise. */
    for (int q = 0; dx && q < 3; q++)
        for (int j = 0; j < cnt; j++)
            dx[q * h + j] += dg[q * h + j];
    for (int j = 0; j < cnt; j++)
        dg[2 * h + j] *= g[j];
}

/* Units [j0,j1) of GRU step t backward, element-wise part, over the running rows. */
static void gru_step_back(const rnn_saved *s, const rnn_grads *d, int t, int j0, int j1)
{
    const rnn_plan *p = &s->plan;
    int h = p->hidden, gh = 3 * h, n = p->active[t];

    for (int i = 0; i < n; i++) {
        size_t row = (size_t)p->perm[i] * p->time + t, pk = p->off[t] + i;
        gru_row_back(d->dh + (size_t)i * h + j0, d->dseq + row * h + j0,
                     s->gates + pk * gh + j0, s->cand + pk * h + j0,
                     s->hprev + pk * h + j0, d->dgates + pk * gh + j0,
                     d->dxp ? d->dxp + row * gh + j0 : NULL, h, j1 - j0);
    }
}

/* cnt units of one LSTM row backward: dc := dc * f carries the cell gradient back; dh is
 * only read, as the W_hh product rebuilds it entirely afterwards. */
static void lstm_row_back(const float *restrict dh, const float *restrict ds,
                          float *restrict dc, const float *restrict g,
                          const float *restrict tc, const float *restrict cp,
                          float *restrict dg, float *restrict dx, int h, int cnt)
{
    for (int j = 0; j < cnt; j++) {
        float dy = dh[j] + ds[j], ig = g[j], fg = g[h + j], gg = g[2 * h + j];
        float og = g[3 * h + j], dcv = dc[j] + dy * og * (1.0f - tc[j] * tc[j]);
        dg[j] = dcv * gg * ig * (1.0f - ig);
        dg[h + j] = dcv * cp[j] * fg * (1.0f - fg);
        dg[2 * h + j] = dcv * ig * (1.0f - gg * gg);
        dg[3 * h + j] = dy * tc[j] * og * (1.0f - og);
        dc[j] = dcv * fg;
    }
    for (int q = 0; dx && q < 4; q++)
        for (int j = 0; j < cnt; j++)
            dx[q * h + j] += dg[q * h + j];
}

static void lstm_step_back(const rnn_saved *s, const rnn_grads *d, int t, int j0, int j1)
{
    const rnn_plan *p = &s->plan;
    int h = p->hidden, gh = 4 * h, n = p->active[t];

    for (int i = 0; i < n; i++) {
        size_t row = (size_t)p->perm[i] * p->time + t, pk = p->off[t] + i;
        lstm_row_back(d->dh + (size_t)i * h + j0, d->dseq + row * h + j0,
                      d->dc + (size_t)i * h + j0, s->gates + pk * gh + j0,
                      s->tanh_c + pk * h + j0, s->cprev + pk * h + j0,
                      d->dgates + pk * gh + j0, d->dxp ? d->dxp + row * gh + j0 : NULL, h,
                      j1 - j0);
    }
}

/* Back in time. After the gate gradients of step t, the running rows' dh (units
 * [j0,j1)) gains dgates W_hh, [n,G*H] x [G*H,cnt]: GRU adds it to its skip term, LSTM
 * has none and overwrites. A thread's next step reads only its own units of dh, so the
 * one barrier per step is the one before the product, which reads every unit's dgates. */
static void backward_units(const rnn_saved *s, const rnn_grads *d, const float *w_hh,
                           int j0, int j1)
{
    const rnn_plan *p = &s->plan;
    int h = p->hidden, gh = p->gates * h;
    float beta = s->kind == DC_RNN_KIND_GRU ? 1.0f : 0.0f;

    for (int t = p->steps - 1; t >= 0; t--) {
        if (s->kind == DC_RNN_KIND_GRU)
            gru_step_back(s, d, t, j0, j1);
        else
            lstm_step_back(s, d, t, j0, j1);
        #pragma omp barrier
        if (t > 0 && j1 > j0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, p->active[t], j1 - j0,
                        gh, 1.0f, d->dgates + p->off[t] * gh, gh, w_hh + j0, h, beta,
                        d->dh + j0, h);
    }
}

static void run_backward(const rnn_saved *s, const rnn_grads *d, const float *w_hh)
{
    if (!use_threads(&s->plan) || dc_get_threads() < 2) {
        backward_units(s, d, w_hh, 0, s->plan.hidden);
        return;
    }

    #pragma omp parallel
    {
        int j0, j1;
        unit_slice(s->plan.hidden, omp_get_thread_num(), omp_get_num_threads(), &j0, &j1);
        backward_units(s, d, w_hh, j0, j1);
    }
}

/* dW_hh += dgates^T h_prev over every packed row past step 0 (step 0 saw h = 0), one
 * sgemm [G*H,N] x [N,H]; db_hh += the column sums of dgates. */
static void weight_grads(dc_node *node, const rnn_saved *s, const float *dgates)
{
    const rnn_plan *p = &s->plan;
    int h = p->hidden, gh = p->gates * h;
    size_t n = p->off[p->steps], first = p->off[1];
    float *gw = dc_node_in_grad(node, 1);
    float *gb = node->n_in > 2 ? dc_node_in_grad(node, 2) : NULL;

    if (gw && n > first)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, gh, h, (int)(n - first),
                    1.0f, dgates + first * gh, gh, s->hprev + first * h, h, 1.0f, gw, h);
    if (gb)
        for (size_t i = 0; i < n; i++)
            for (int j = 0; j < gh; j++)
                gb[j] += dgates[i * gh + j];
}

static void rnn_backward(dc_node *node)
{
    const rnn_saved *s = node->saved;
    const rnn_plan *p = &s->plan;
    size_t bh = (size_t)p->batch * p->hidden;
    rnn_grads d = {arena_floats(p->off[p->steps] * p->gates * p->hidden), arena_floats(bh),
                   NULL, dc_node_in_grad(node, 0), node->out->grad};

    /* Every buffer comes from the arena here, before the threads start. */
    memset(d.dh, 0, bh * sizeof(float));
    if (s->kind == DC_RNN_KIND_LSTM) {
        d.dc = arena_floats(bh);
        memset(d.dc, 0, bh * sizeof(float));
    }
    run_backward(s, &d, node->in[1]->data);
    weight_grads(node, s, d.dgates);
}

/* The recurrence over xp [B*T,G*H] (inputs already projected) -> seq [B,T,H]. */
static dc_tensor *rnn_scan(dc_rnn_kind kind, dc_tensor *xp, int batch, int time,
                           const int *lengths, dc_tensor *w_hh, dc_tensor *b_hh)
{
    int hidden = w_hh->shape[1];
    dc_tensor *seq = dc_tensor_tmp(3, (int[]){batch, time, hidden});
    rnn_saved *s = saved_new(kind, batch, time, hidden, lengths);
    float *c_spare = kind == DC_RNN_KIND_LSTM ? arena_floats((size_t)batch * hidden) : NULL;
    dc_node *node;

    run_forward(s, w_hh->data, b_hh ? b_hh->data : NULL, xp->data, seq->data, c_spare);
    node = dc_record(kind_name(kind), rnn_backward, seq, b_hh ? 3 : 2,
                     (dc_tensor *[]){xp, w_hh, b_hh});
    if (node)
        node->saved = s;
    return seq;
}

dc_tensor *dc_rnn(dc_rnn_kind kind, dc_tensor *x, const int *lengths, dc_tensor *w_ih,
                  dc_tensor *w_hh, dc_tensor *b_ih, dc_tensor *b_hh)
{
    int batch, time;
    dc_tensor *xp;

    if (check_rnn(kind, x, w_ih, w_hh, b_ih, b_hh) != DC_OK)
        return NULL;
    batch = x->shape[0], time = x->shape[1];
    if (check_lengths(kind_name(kind), lengths, batch, time) != DC_OK)
        return NULL;

    /* All B*T input projections in one sgemm, padding included: it is cheaper than
     * gathering the real steps, and the recurrence never reads the padded rows. */
    xp = dc_linear(dc_reshape(x, 2, (int[]){batch * time, x->shape[2]}), w_ih, b_ih);
    if (!xp)
        return NULL;
    return rnn_scan(kind, xp, batch, time, lengths, w_hh, b_hh);
}

/* ---- the last real step of each sequence ---- */

/* seq [B,T,H]; iparam[0] holds T, saved the lengths (NULL: all T). */
static void last_backward(dc_node *node)
{
    const int *lengths = node->saved;
    float *gs = dc_node_in_grad(node, 0);
    const float *g = node->out->grad;
    int batch = node->out->shape[0], hidden = node->out->shape[1], time = node->iparam[0];

    for (int b = 0; b < batch; b++) {
        float *dst = gs + ((size_t)b * time + length_of(lengths, b, time) - 1) * hidden;
        for (int j = 0; j < hidden; j++)
            dst[j] += g[(size_t)b * hidden + j];
    }
}

dc_tensor *dc_rnn_last(dc_tensor *seq, const int *lengths)
{
    char ss[64];
    int batch, time, hidden;
    int *kept = NULL;
    dc_tensor *y;
    dc_node *node;

    if (!seq || seq->ndim != 3) {
        dc_fail(DC_ERR_SHAPE, "rnn_last: sequence %s, expected [B,T,H]",
                seq ? dc_shape_str(seq, ss, sizeof ss) : "NULL");
        return NULL;
    }
    batch = seq->shape[0], time = seq->shape[1], hidden = seq->shape[2];
    if (check_lengths("rnn_last", lengths, batch, time) != DC_OK)
        return NULL;
    y = dc_tensor_tmp(2, (int[]){batch, hidden});
    for (int b = 0; b < batch; b++)
        memcpy(y->data + (size_t)b * hidden,
               seq->data + ((size_t)b * time + length_of(lengths, b, time) - 1) * hidden,
               (size_t)hidden * sizeof(float));

    /* The caller's array may change before backward runs; keep a copy. */
    if (lengths) {
        kept = dc_arena_alloc((size_t)batch * sizeof(int));
        memcpy(kept, lengths, (size_t)batch * sizeof(int));
    }
    node = dc_record("rnn_last", last_backward, y, 1, (dc_tensor *[]){seq});
    if (node)
        node->saved = kept, node->iparam[0] = time;
    return y;
}

/* ---- dropout between layers ---- */

/* dc_dropout in training mode, with stricter arguments: p = 1 between layers would cut
 * the stack in two, so it is refused rather than computed. */
dc_tensor *dc_rnn_dropout(dc_tensor *x, float p, dc_rng *rng)
{
    if (!(p >= 0.0f && p < 1.0f) || !rng || !x) {
        dc_fail(DC_ERR_ARG, "rnn_dropout: p = %g%s%s, expected p in [0,1), an rng and an "
                "input", (double)p, rng ? "" : ", rng NULL", x ? "" : ", x NULL");
        return NULL;
    }
    return dc_dropout(x, p, 1, rng);
}
