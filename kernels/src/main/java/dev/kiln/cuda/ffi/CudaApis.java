package dev.kiln.cuda.ffi;

import java.util.List;

/**
 * The C functions Kiln binds, as tables of prototypes copied from the vendors' headers (cuda.h,
 * cublas_api.h, cublasLt.h, nvrtc.h, cudnn_graph.h, cudnn_ops.h, cudnn_cnn.h, nccl.h). Versioned symbols (_v2) are the ones the
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
            CUresult cuMemHostAlloc(void**, size_t, unsigned int);
            CUresult cuMemFreeHost(void*);
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
            CUresult cuStreamWaitEvent(CUstream, CUevent, unsigned int);
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
            cublasStatus_t cublasGemmEx(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void*, const void*, cudaDataType, int, const void*, cudaDataType, int, const void*, void*, cudaDataType, int, cublasComputeType_t, cublasGemmAlgo_t);
            cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void*, const void*, cudaDataType, int, long long, const void*, cudaDataType, int, long long, const void*, void*, cudaDataType, int, long long, int, cublasComputeType_t, cublasGemmAlgo_t);
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

    /** NCCL 2 (pip: nvidia-nccl-cu12 / -cu13, which PyTorch machines have; apt: libnccl2). */
    public static final List<String> NCCL_SONAMES = List.of("libnccl.so.2");

    /**
     * cuDNN 9 (cudnn_graph.h, cudnn_ops.h, cudnn_cnn.h): the handle, the graph ("backend") API, and the legacy
     * descriptor API for NHWC convolutions (forward, fused bias + activation, backward data and filter), their
     * algorithm heuristics and workspace sizes, pooling, softmax, batch norm (inference form) and activations. Checked against the headers' declarations as
     * org.bytedeco:cuda generated them (CudaLibraryDeclarationsTest), since the headers are not installed here.
     */
    public static final CFunctions CUDNN = CFunctions.parse("libcudnn.so.9", """
            size_t cudnnGetVersion(void);
            size_t cudnnGetCudartVersion(void);
            const char* cudnnGetErrorString(cudnnStatus_t);
            cudnnStatus_t cudnnCreate(cudnnHandle_t*);
            cudnnStatus_t cudnnDestroy(cudnnHandle_t);
            cudnnStatus_t cudnnSetStream(cudnnHandle_t, cudaStream_t);
            cudnnStatus_t cudnnBackendCreateDescriptor(cudnnBackendDescriptorType_t, cudnnBackendDescriptor_t*);
            cudnnStatus_t cudnnBackendDestroyDescriptor(cudnnBackendDescriptor_t);
            cudnnStatus_t cudnnBackendFinalize(cudnnBackendDescriptor_t);
            cudnnStatus_t cudnnBackendSetAttribute(cudnnBackendDescriptor_t, cudnnBackendAttributeName_t, cudnnBackendAttributeType_t, int64_t, const void*);
            cudnnStatus_t cudnnBackendGetAttribute(cudnnBackendDescriptor_t, cudnnBackendAttributeName_t, cudnnBackendAttributeType_t, int64_t, int64_t*, void*);
            cudnnStatus_t cudnnBackendExecute(cudnnHandle_t, cudnnBackendDescriptor_t, cudnnBackendDescriptor_t);
            cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t*);
            cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t, cudnnTensorFormat_t, cudnnDataType_t, int, int, int, int);
            cudnnStatus_t cudnnSetTensorNdDescriptor(cudnnTensorDescriptor_t, cudnnDataType_t, int, const int*, const int*);
            cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t);
            cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t*);
            cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t, cudnnDataType_t, cudnnTensorFormat_t, int, int, int, int);
            cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t);
            cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t*);
            cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t, int, int, int, int, int, int, cudnnConvolutionMode_t, cudnnDataType_t);
            cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t, cudnnMathType_t);
            cudnnStatus_t cudnnGetConvolution2dForwardOutputDim(const cudnnConvolutionDescriptor_t, const cudnnTensorDescriptor_t, const cudnnFilterDescriptor_t, int*, int*, int*, int*);
            cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t);
            cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(cudnnHandle_t, const cudnnTensorDescriptor_t, const cudnnFilterDescriptor_t, const cudnnConvolutionDescriptor_t, const cudnnTensorDescriptor_t, const int, int*, cudnnConvolutionFwdAlgoPerf_t*);
            cudnnStatus_t cudnnFindConvolutionForwardAlgorithm(cudnnHandle_t, const cudnnTensorDescriptor_t, const cudnnFilterDescriptor_t, const cudnnConvolutionDescriptor_t, const cudnnTensorDescriptor_t, const int, int*, cudnnConvolutionFwdAlgoPerf_t*);
            cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t, const cudnnTensorDescriptor_t, const cudnnFilterDescriptor_t, const cudnnConvolutionDescriptor_t, const cudnnTensorDescriptor_t, cudnnConvolutionFwdAlgo_t, size_t*);
            cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t, const void*, const cudnnTensorDescriptor_t, const void*, const cudnnFilterDescriptor_t, const void*, const cudnnConvolutionDescriptor_t, cudnnConvolutionFwdAlgo_t, void*, size_t, const void*, const cudnnTensorDescriptor_t, void*);
            cudnnStatus_t cudnnConvolutionBiasActivationForward(cudnnHandle_t, const void*, const cudnnTensorDescriptor_t, const void*, const cudnnFilterDescriptor_t, const void*, const cudnnConvolutionDescriptor_t, cudnnConvolutionFwdAlgo_t, void*, size_t, const void*, const cudnnTensorDescriptor_t, const void*, const cudnnTensorDescriptor_t, const void*, const cudnnActivationDescriptor_t, const cudnnTensorDescriptor_t, void*);
            cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithm_v7(cudnnHandle_t, const cudnnFilterDescriptor_t, const cudnnTensorDescriptor_t, const cudnnConvolutionDescriptor_t, const cudnnTensorDescriptor_t, const int, int*, cudnnConvolutionBwdDataAlgoPerf_t*);
            cudnnStatus_t cudnnGetConvolutionBackwardDataWorkspaceSize(cudnnHandle_t, const cudnnFilterDescriptor_t, const cudnnTensorDescriptor_t, const cudnnConvolutionDescriptor_t, const cudnnTensorDescriptor_t, cudnnConvolutionBwdDataAlgo_t, size_t*);
            cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t, const void*, const cudnnFilterDescriptor_t, const void*, const cudnnTensorDescriptor_t, const void*, const cudnnConvolutionDescriptor_t, cudnnConvolutionBwdDataAlgo_t, void*, size_t, const void*, const cudnnTensorDescriptor_t, void*);
            cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithm_v7(cudnnHandle_t, const cudnnTensorDescriptor_t, const cudnnTensorDescriptor_t, const cudnnConvolutionDescriptor_t, const cudnnFilterDescriptor_t, const int, int*, cudnnConvolutionBwdFilterAlgoPerf_t*);
            cudnnStatus_t cudnnGetConvolutionBackwardFilterWorkspaceSize(cudnnHandle_t, const cudnnTensorDescriptor_t, const cudnnTensorDescriptor_t, const cudnnConvolutionDescriptor_t, const cudnnFilterDescriptor_t, cudnnConvolutionBwdFilterAlgo_t, size_t*);
            cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t, const void*, const cudnnTensorDescriptor_t, const void*, const cudnnTensorDescriptor_t, const void*, const cudnnConvolutionDescriptor_t, cudnnConvolutionBwdFilterAlgo_t, void*, size_t, const void*, const cudnnFilterDescriptor_t, void*);
            cudnnStatus_t cudnnConvolutionBackwardBias(cudnnHandle_t, const void*, const cudnnTensorDescriptor_t, const void*, const void*, const cudnnTensorDescriptor_t, void*);
            cudnnStatus_t cudnnCreateActivationDescriptor(cudnnActivationDescriptor_t*);
            cudnnStatus_t cudnnSetActivationDescriptor(cudnnActivationDescriptor_t, cudnnActivationMode_t, cudnnNanPropagation_t, double);
            cudnnStatus_t cudnnDestroyActivationDescriptor(cudnnActivationDescriptor_t);
            cudnnStatus_t cudnnCreatePoolingDescriptor(cudnnPoolingDescriptor_t*);
            cudnnStatus_t cudnnSetPooling2dDescriptor(cudnnPoolingDescriptor_t, cudnnPoolingMode_t, cudnnNanPropagation_t, int, int, int, int, int, int);
            cudnnStatus_t cudnnDestroyPoolingDescriptor(cudnnPoolingDescriptor_t);
            cudnnStatus_t cudnnPoolingForward(cudnnHandle_t, const cudnnPoolingDescriptor_t, const void*, const cudnnTensorDescriptor_t, const void*, const void*, const cudnnTensorDescriptor_t, void*);
            cudnnStatus_t cudnnPoolingBackward(cudnnHandle_t, const cudnnPoolingDescriptor_t, const void*, const cudnnTensorDescriptor_t, const void*, const cudnnTensorDescriptor_t, const void*, const cudnnTensorDescriptor_t, const void*, const void*, const cudnnTensorDescriptor_t, void*);
            cudnnStatus_t cudnnActivationForward(cudnnHandle_t, cudnnActivationDescriptor_t, const void*, const cudnnTensorDescriptor_t, const void*, const void*, const cudnnTensorDescriptor_t, void*);
            cudnnStatus_t cudnnAddTensor(cudnnHandle_t, const void*, const cudnnTensorDescriptor_t, const void*, const void*, const cudnnTensorDescriptor_t, void*);
            cudnnStatus_t cudnnTransformTensor(cudnnHandle_t, const void*, const cudnnTensorDescriptor_t, const void*, const void*, const cudnnTensorDescriptor_t, void*);
            cudnnStatus_t cudnnSetConvolutionGroupCount(cudnnConvolutionDescriptor_t, int);
            cudnnStatus_t cudnnFindConvolutionBackwardDataAlgorithm(cudnnHandle_t, const cudnnFilterDescriptor_t, const cudnnTensorDescriptor_t, const cudnnConvolutionDescriptor_t, const cudnnTensorDescriptor_t, const int, int*, cudnnConvolutionBwdDataAlgoPerf_t*);
            cudnnStatus_t cudnnSoftmaxForward(cudnnHandle_t, cudnnSoftmaxAlgorithm_t, cudnnSoftmaxMode_t, const void*, const cudnnTensorDescriptor_t, const void*, const void*, const cudnnTensorDescriptor_t, void*);
            cudnnStatus_t cudnnBatchNormalizationForwardInference(cudnnHandle_t, cudnnBatchNormMode_t, const void*, const void*, const cudnnTensorDescriptor_t, const void*, const cudnnTensorDescriptor_t, void*, const cudnnTensorDescriptor_t, const void*, const void*, const void*, const void*, double);
            cudnnStatus_t cudnnBatchNormalizationBackward(cudnnHandle_t, cudnnBatchNormMode_t, const void*, const void*, const void*, const void*, const cudnnTensorDescriptor_t, const void*, const cudnnTensorDescriptor_t, const void*, const cudnnTensorDescriptor_t, void*, const cudnnTensorDescriptor_t, const void*, void*, void*, double, const void*, const void*);
            cudnnStatus_t cudnnFindConvolutionBackwardFilterAlgorithm(cudnnHandle_t, const cudnnTensorDescriptor_t, const cudnnTensorDescriptor_t, const cudnnConvolutionDescriptor_t, const cudnnFilterDescriptor_t, const int, int*, cudnnConvolutionBwdFilterAlgoPerf_t*);
            """);

    /**
     * NCCL 2 (nccl.h): communicators (all ranks of one process with ncclCommInitAll, or one rank each with
     * ncclCommInitRank and a shared unique id, passed by value), all-reduce and broadcast, and groups.
     */
    public static final CFunctions NCCL = CFunctions.parse("libnccl.so.2", """
            ncclResult_t ncclGetVersion(int*);
            const char* ncclGetErrorString(ncclResult_t);
            ncclResult_t ncclGetUniqueId(ncclUniqueId*);
            ncclResult_t ncclCommInitRank(ncclComm_t*, int, ncclUniqueId, int);
            ncclResult_t ncclCommInitAll(ncclComm_t*, int, const int*);
            ncclResult_t ncclCommDestroy(ncclComm_t);
            ncclResult_t ncclCommAbort(ncclComm_t);
            ncclResult_t ncclCommCount(const ncclComm_t, int*);
            ncclResult_t ncclCommUserRank(const ncclComm_t, int*);
            ncclResult_t ncclAllReduce(const void*, void*, size_t, ncclDataType_t, ncclRedOp_t, ncclComm_t, cudaStream_t);
            ncclResult_t ncclBroadcast(const void*, void*, size_t, ncclDataType_t, int, ncclComm_t, cudaStream_t);
            ncclResult_t ncclGroupStart(void);
            ncclResult_t ncclGroupEnd(void);
            """);
}
