package dev.kiln.cuda.ffi;

/**
 * The cuDNN 9 values the convolution, pooling, softmax and batch-norm paths pass to {@link CudaApis#CUDNN}: data types, NHWC layout, convolution
 * mode, math types, activations, pooling, and the size of the algorithm-performance records the heuristics write.
 * Checked against the header declarations as org.bytedeco:cuda generated them (CudaLibraryDeclarationsTest).
 */
public final class Cudnn {
    private Cudnn() {}

    public static final int CUDNN_STATUS_SUCCESS = 0;
    // cudnnDataType_t, cudnnTensorFormat_t
    public static final int CUDNN_DATA_FLOAT = 0;
    public static final int CUDNN_DATA_HALF = 2;
    public static final int CUDNN_DATA_BFLOAT16 = 9;
    public static final int CUDNN_TENSOR_NCHW = 0;
    public static final int CUDNN_TENSOR_NHWC = 1;
    // cudnnConvolutionMode_t, cudnnMathType_t
    public static final int CUDNN_CONVOLUTION = 0;
    public static final int CUDNN_CROSS_CORRELATION = 1;
    public static final int CUDNN_DEFAULT_MATH = 0;
    public static final int CUDNN_TENSOR_OP_MATH = 1;
    public static final int CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION = 2;
    public static final int CUDNN_FMA_MATH = 3;
    // cudnnConvolutionFwdAlgo_t (the one cuDNN's heuristics most often pick for NHWC f32)
    public static final int CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM = 0;
    public static final int CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM = 1;
    // cudnnActivationMode_t, cudnnNanPropagation_t, cudnnPoolingMode_t
    public static final int CUDNN_ACTIVATION_SIGMOID = 0;
    public static final int CUDNN_ACTIVATION_RELU = 1;
    public static final int CUDNN_ACTIVATION_TANH = 2;
    public static final int CUDNN_ACTIVATION_IDENTITY = 5;
    public static final int CUDNN_NOT_PROPAGATE_NAN = 0;
    public static final int CUDNN_PROPAGATE_NAN = 1;
    public static final int CUDNN_POOLING_MAX = 0;
    public static final int CUDNN_POOLING_MAX_DETERMINISTIC = 3;
    public static final int CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING = 2;
    // cudnnSoftmaxAlgorithm_t, cudnnSoftmaxMode_t, cudnnBatchNormMode_t
    public static final int CUDNN_SOFTMAX_ACCURATE = 1;
    public static final int CUDNN_SOFTMAX_LOG = 2;
    public static final int CUDNN_SOFTMAX_MODE_INSTANCE = 0;
    public static final int CUDNN_BATCHNORM_SPATIAL = 1;
    // cudnnDeterminism_t: what an algorithm-performance record says of an algorithm's reductions
    public static final int CUDNN_NON_DETERMINISTIC = 0;
    public static final int CUDNN_DETERMINISTIC = 1;

    /**
     * sizeof(cudnnConvolutionFwdAlgoPerf_t) and its backward twins: int algo, cudnnStatus_t status, float time,
     * size_t memory, cudnnDeterminism_t determinism, cudnnMathType_t mathType, int reserved[3] (x86-64 alignment).
     */
    public static final int ALGO_PERF_BYTES = 48;
}
