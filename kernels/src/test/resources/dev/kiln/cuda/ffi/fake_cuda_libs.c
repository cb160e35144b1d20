/* Stand-ins for libnvrtc and libcublas, built by FakeLibrariesTest with gcc, so the FFM bindings'
 * argument passing and error texts are exercised on a machine without the real libraries. The
 * "device pointers" the fake GEMM receives are host addresses. */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

typedef struct { char* src; char* name; char* out; } program;

int nvrtcVersion(int* major, int* minor) { *major = 13; *minor = 0; return 0; }
const char* nvrtcGetErrorString(int status) { return status == 6 ? "NVRTC_ERROR_COMPILATION" : status == 3 ? "NVRTC_ERROR_INVALID_INPUT" : "NVRTC_ERROR_UNKNOWN"; }
int nvrtcCreateProgram(program** p, const char* src, const char* name, int nh, const char* const* h, const char* const* hn) {
    if (src == NULL) return 3;
    *p = calloc(1, sizeof(program));
    (*p)->src = strdup(src);
    (*p)->name = strdup(name);
    return 0;
}
int nvrtcDestroyProgram(program** p) { free((*p)->src); free((*p)->name); free((*p)->out); free(*p); *p = NULL; return 0; }
int nvrtcCompileProgram(program* p, int n, const char* const* opts) {
    char buf[1024];
    if (strstr(p->src, "syntax error")) {
        snprintf(buf, sizeof buf, "%s(1): error: expected a \";\"", p->name);
        p->out = strdup(buf);
        return 6;
    }
    int len = snprintf(buf, sizeof buf, "// fake PTX of %s, %d options:", p->name, n);
    for (int i = 0; i < n; i++) len += snprintf(buf + len, sizeof buf - len, " %s", opts[i]);
    p->out = strdup(buf);
    return 0;
}
int nvrtcGetPTXSize(program* p, size_t* n) { *n = strlen(p->out) + 1; return 0; }
int nvrtcGetPTX(program* p, char* out) { strcpy(out, p->out); return 0; }
int nvrtcGetProgramLogSize(program* p, size_t* n) { *n = strlen(p->out) + 1; return 0; }
int nvrtcGetProgramLog(program* p, char* out) { strcpy(out, p->out); return 0; }

int cublasCreate_v2(void** h) { *h = (void*) 0x1234; return 0; }
int cublasDestroy_v2(void* h) { return h == (void*) 0x1234 ? 0 : 7; }
int cublasSetStream_v2(void* h, void* s) { return 0; }
const char* cublasGetStatusName(int s) { return s == 7 ? "CUBLAS_STATUS_INVALID_VALUE" : "CUBLAS_STATUS_UNKNOWN"; }
const char* cublasGetStatusString(int s) { return s == 7 ? "an invalid numeric value was used as an argument" : "unknown"; }
/* Column-major C = alpha op(A) op(B) + beta C, the reference semantics of cublasSgemm. */
int cublasSgemm_v2(void* h, int ta, int tb, int m, int n, int k, const float* alpha, const float* a, int lda,
                   const float* b, int ldb, const float* beta, float* c, int ldc) {
    if (m < 0 || n < 0 || k < 0 || lda < (ta ? k : m) || ldb < (tb ? n : k) || ldc < m) return 7;
    for (int j = 0; j < n; j++) for (int i = 0; i < m; i++) {
        float s = 0;
        for (int p = 0; p < k; p++) s += (ta ? a[p + i * lda] : a[i + p * lda]) * (tb ? b[j + p * ldb] : b[p + j * ldb]);
        c[i + j * ldc] = *alpha * s + *beta * c[i + j * ldc];
    }
    return 0;
}

/* Version queries, as CudaBackend's doctor lines read them: cuBLAS 13.0.2, cuBLASLt 130002, cuDNN 9.10.1. */
int cublasGetProperty(int type, int* value) { *value = type == 0 ? 13 : type == 1 ? 0 : type == 2 ? 2 : -1; return type <= 2 ? 0 : 7; }
size_t cublasLtGetVersion(void) { return 130002; }
size_t cudnnGetVersion(void) { return 91001; }

/* NCCL: a communicator is a small struct (ncclCommInitAll makes one per device); an all-reduce over one rank copies send to recv (host
 * addresses here). A count past what the fake accepts returns ncclInvalidArgument (4) so error texts are exercised. */
typedef struct { int ranks; int rank; } fake_comm;
int ncclGetVersion(int* v) { *v = 22707; return 0; }
const char* ncclGetErrorString(int r) { return r == 4 ? "invalid argument (run with NCCL_DEBUG=WARN for details)" : "unhandled error"; }
int ncclCommInitAll(fake_comm** comms, int ndev, const int* devs) {
    if (ndev < 1) return 4;
    for (int i = 0; i < ndev; i++) if (devs[i] != i) return 4;   /* the fake's devices are 0..ndev-1 */
    for (int i = 0; i < ndev; i++) {
        comms[i] = calloc(1, sizeof(fake_comm));
        comms[i]->ranks = ndev;
        comms[i]->rank = i;
    }
    return 0;
}
int ncclCommCount(const fake_comm* c, int* n) { *n = c->ranks; return 0; }
int ncclCommUserRank(const fake_comm* c, int* r) { *r = c->rank; return 0; }
int ncclCommDestroy(fake_comm* c) { free(c); return 0; }
int ncclCommAbort(fake_comm* c) { free(c); return 0; }
int ncclAllReduce(const void* send, void* recv, size_t count, int type, int op, fake_comm* c, void* stream) {
    if (type != 7 || (op != 0 && op != 4) || count > (1u << 20)) return 4;   // ncclSum or ncclAvg: one rank, the same
    if (send != recv) memcpy(recv, send, count * 4);
    return 0;
}
int ncclGroupStart(void) { return 0; }
int ncclGroupEnd(void) { return 0; }

/* libcuda's primary contexts, for NativeDriver's context calls: a retain count per device (four), the
 * context current per thread; a context's handle is 0x1000 + its device. */
static int primary_retains[4];
static __thread void* current_context;
int cuDeviceGet(int* dev, int ordinal) { if (ordinal < 0 || ordinal > 3) return 101; *dev = ordinal; return 0; }
int cuDevicePrimaryCtxRetain(void** ctx, int dev) { primary_retains[dev]++; *ctx = (void*) (0x1000L + dev); return 0; }
int cuDevicePrimaryCtxRelease_v2(int dev) { if (primary_retains[dev] == 0) return 201; primary_retains[dev]--; return 0; }
int cuCtxSetCurrent(void* ctx) { current_context = ctx; return 0; }
int cuCtxGetCurrent(void** ctx) { *ctx = current_context; return 0; }
int fakePrimaryRetains(int dev) { return primary_retains[dev]; }
