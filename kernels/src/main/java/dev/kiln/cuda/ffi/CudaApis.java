package dev.kiln.cuda.ffi;

import java.util.List;

/**
 * The C functions Kiln binds, as tables of prototypes copied from the vendors' headers (cuda.h,
 * cublas_api.h, cublasLt.h, nvrtc.h, cudnn_graph.h). Versioned symbols (_v2) are the ones the
 * headers' macros resolve to in CUDA 12 and 13 alike; contexts use the primary context, whose API
 * did not change between them. The driver table is checked against this machine's cuda.h by
 * CudaHeaderTest; the others are checked only where their headers are installed.
 */
public final class CudaApis {
    private CudaApis() {}

    public static final List<String> DRIVER_SONAMES = List.of("libcuda.so.1");
    public static final List<String> CUBLAS_SONAMES = List.of("libcublas.so.13", "libcublas.so.12");
    public static final List<String> CUBLASLT_SONAMES = List.of("libcublasLt.so.13", "libcublasLt.so.12");
    public static final List<String> NVRTC_SONAMES = List.of("libnvrtc.so.13", "libnvrtc.so.12");
    public static final List<String> CUDNN_SONAMES = List.of("libcudnn.so.9");

    public static final CFunctions DRIVER = CFunctions.parse("libcuda.so.1", """
            CUresult cuInit(unsigned int);
            CUresult cuDriverGetVersion(int*);
            CUresult cuGetErrorName(CUresult, const char**);
            CUresult cuGetErrorString(CUresult, const char**);
            CUresult cuDeviceGet(CUdevice*, int);
            CUresult cuDeviceGetCount(int*);
            CUresult cuDeviceGetName(char*, int, CUdevice);
            CUresult cuDeviceGetAttribute(int*, CUdevice_attribute, CUdevice);
            CUresult cuDeviceTotalMem_v2(size_t*, CUdevice);
            CUresult cuDevicePrimaryCtxRetain(CUcontext*, CUdevice);
            CUresult cuDevicePrimaryCtxRelease_v2(CUdevice);
            CUresult cuCtxSetCurrent(CUcontext);
            CUresult cuCtxGetCurrent(CUcontext*);
            CUresult cuCtxSynchronize(void);
            CUresult cuCtxDestroy_v2(CUcontext);
            CUresult cuModuleLoadData(CUmodule*, const void*);
            CUresult cuModuleUnload(CUmodule);
            CUresult cuModuleGetFunction(CUfunction*, CUmodule, const char*);
            CUresult cuLaunchKernel(CUfunction, unsigned int, unsigned int, unsigned int, unsigned int, unsigned int, unsigned int, unsigned int, CUstream, void**, void**);
            CUresult cuMemAlloc_v2(CUdeviceptr*, size_t);
            CUresult cuMemFree_v2(CUdeviceptr);
            CUresult cuMemcpyHtoD_v2(CUdeviceptr, const void*, size_t);
            CUresult cuMemcpyDtoH_v2(void*, CUdeviceptr, size_t);
            CUresult cuMemcpyDtoD_v2(CUdeviceptr, CUdeviceptr, size_t);
            CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr, const void*, size_t, CUstream);
            CUresult cuMemcpyDtoHAsync_v2(void*, CUdeviceptr, size_t, CUstream);
            CUresult cuMemsetD32_v2(CUdeviceptr, unsigned int, size_t);
            CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr, CUdeviceptr, size_t, CUstream);
            CUresult cuMemsetD32Async(CUdeviceptr, unsigned int, size_t, CUstream);
            CUresult cuStreamCreate(CUstream*, unsigned int);
            CUresult cuStreamSynchronize(CUstream);
            CUresult cuStreamDestroy_v2(CUstream);
            CUresult cuEventCreate(CUevent*, unsigned int);
            CUresult cuEventRecord(CUevent, CUstream);
            CUresult cuEventSynchronize(CUevent);
            CUresult cuEventElapsedTime(float*, CUevent, CUevent);
            CUresult cuEventDestroy_v2(CUevent);
            CUresult cuStreamBeginCapture_v2(CUstream, CUstreamCaptureMode);
            CUresult cuStreamEndCapture(CUstream, CUgraph*);
            CUresult cuGraphInstantiateWithFlags(CUgraphExec*, CUgraph, unsigned long long);
            CUresult cuGraphLaunch(CUgraphExec, CUstream);
            CUresult cuGraphExecDestroy(CUgraphExec);
            CUresult cuGraphDestroy(CUgraph);
            """);

    public static final CFunctions CUBLAS = CFunctions.parse("libcublas.so", """
            cublasStatus_t cublasCreate_v2(cublasHandle_t*);
            cublasStatus_t cublasDestroy_v2(cublasHandle_t);
            cublasStatus_t cublasGetProperty(libraryPropertyType, int*);
            cublasStatus_t cublasSetStream_v2(cublasHandle_t, cudaStream_t);
            cublasStatus_t cublasSetMathMode(cublasHandle_t, cublasMath_t);
            const char* cublasGetStatusName(cublasStatus_t);
            const char* cublasGetStatusString(cublasStatus_t);
            cublasStatus_t cublasSgemm_v2(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const float*, const float*, int, const float*, int, const float*, float*, int);
            cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const float*, const float*, int, long long, const float*, int, long long, const float*, float*, int, long long, int);
            """);

    public static final CFunctions CUBLASLT = CFunctions.parse("libcublasLt.so", """
            cublasStatus_t cublasLtCreate(cublasLtHandle_t*);
            cublasStatus_t cublasLtDestroy(cublasLtHandle_t);
            size_t cublasLtGetVersion(void);
            cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t*, cublasComputeType_t, cudaDataType_t);
            cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t);
            cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t, cublasLtMatmulDescAttributes_t, const void*, size_t);
            cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t*, cudaDataType, uint64_t, uint64_t, int64_t);
            cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t);
            cublasStatus_t cublasLtMatrixLayoutSetAttribute(cublasLtMatrixLayout_t, cublasLtMatrixLayoutAttribute_t, const void*, size_t);
            cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t*);
            cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t);
            cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t, cublasLtMatmulPreferenceAttributes_t, const void*, size_t);
            cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t, cublasLtMatmulDesc_t, cublasLtMatrixLayout_t, cublasLtMatrixLayout_t, cublasLtMatrixLayout_t, cublasLtMatrixLayout_t, cublasLtMatmulPreference_t, int, void*, int*);
            cublasStatus_t cublasLtMatmul(cublasLtHandle_t, cublasLtMatmulDesc_t, const void*, const void*, cublasLtMatrixLayout_t, const void*, cublasLtMatrixLayout_t, const void*, const void*, cublasLtMatrixLayout_t, void*, cublasLtMatrixLayout_t, const void*, void*, size_t, cudaStream_t);
            """);

    public static final CFunctions NVRTC = CFunctions.parse("libnvrtc.so", """
            nvrtcResult nvrtcVersion(int*, int*);
            const char* nvrtcGetErrorString(nvrtcResult);
            nvrtcResult nvrtcCreateProgram(nvrtcProgram*, const char*, const char*, int, const char* const*, const char* const*);
            nvrtcResult nvrtcDestroyProgram(nvrtcProgram*);
            nvrtcResult nvrtcCompileProgram(nvrtcProgram, int, const char* const*);
            nvrtcResult nvrtcGetPTXSize(nvrtcProgram, size_t*);
            nvrtcResult nvrtcGetPTX(nvrtcProgram, char*);
            nvrtcResult nvrtcGetProgramLogSize(nvrtcProgram, size_t*);
            nvrtcResult nvrtcGetProgramLog(nvrtcProgram, char*);
            """);

    public static final CFunctions CUDNN = CFunctions.parse("libcudnn.so.9", """
            size_t cudnnGetVersion(void);
            const char* cudnnGetErrorString(int);
            """);
}
