package dev.kiln.cuda.ffi;

/**
 * The cublasLt.h and cublas_api.h values that a GEMM with a bias and ReLU epilogue passes to {@link CudaApis#CUBLASLT}:
 * matmul-descriptor attributes, epilogues, the compute types and the heuristic result's size. Checked against the
 * header declarations as org.bytedeco:cuda generated them (CudaLibraryDeclarationsTest).
 *
 * <pre>{@code
 * lt.status("cublasLtMatmulDescSetAttribute", desc, CublasLt.MATMUL_DESC_EPILOGUE, epilogue, 4L);   // epilogue: an int holding EPILOGUE_RELU_BIAS
 * }</pre>
 */
public final class CublasLt {
    private CublasLt() {}

    // cublasLtMatmulDescAttributes_t
    public static final int CUBLASLT_MATMUL_DESC_COMPUTE_TYPE = 0;
    public static final int CUBLASLT_MATMUL_DESC_SCALE_TYPE = 1;
    public static final int CUBLASLT_MATMUL_DESC_POINTER_MODE = 2;
    public static final int CUBLASLT_MATMUL_DESC_TRANSA = 3;
    public static final int CUBLASLT_MATMUL_DESC_TRANSB = 4;
    public static final int CUBLASLT_MATMUL_DESC_EPILOGUE = 7;
    public static final int CUBLASLT_MATMUL_DESC_BIAS_POINTER = 8;
    public static final int CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER = 11;
    public static final int CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD = 12;
    // cublasLtEpilogue_t
    public static final int CUBLASLT_EPILOGUE_DEFAULT = 1;
    public static final int CUBLASLT_EPILOGUE_RELU = 2;
    public static final int CUBLASLT_EPILOGUE_BIAS = 4;
    public static final int CUBLASLT_EPILOGUE_RELU_BIAS = 6;
    public static final int CUBLASLT_EPILOGUE_RELU_AUX_BIAS = 134;
    public static final int CUBLASLT_EPILOGUE_DRELU_BGRAD = 152;
    public static final int CUBLASLT_EPILOGUE_BGRADA = 256;
    public static final int CUBLASLT_EPILOGUE_BGRADB = 512;
    // cublasLtMatrixLayoutAttribute_t, cublasLtMatmulPreferenceAttributes_t
    public static final int CUBLASLT_MATRIX_LAYOUT_ORDER = 1;
    public static final int CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT = 5;
    public static final int CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET = 6;
    public static final int CUBLASLT_ORDER_COL = 0;
    public static final int CUBLASLT_ORDER_ROW = 1;
    public static final int CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1;
    // cublasComputeType_t, cublasOperation_t
    public static final int CUBLAS_COMPUTE_32F = 68;
    public static final int CUBLAS_COMPUTE_32F_FAST_TF32 = 77;
    public static final int CUBLAS_OP_N = 0;
    public static final int CUBLAS_OP_T = 1;

    /**
     * sizeof(cublasLtMatmulHeuristicResult_t): cublasLtMatmulAlgo_t (uint64_t data[8]), size_t workspaceSize,
     * cublasStatus_t state, float wavesCount, int reserved[4]; cublasLtMatmulAlgoGetHeuristic writes an array of them.
     */
    public static final int HEURISTIC_RESULT_BYTES = 96;
}
