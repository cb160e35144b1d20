package dev.kiln.cuda.ffi;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A native API declared as a table of C prototypes, one per line, exactly as the vendor's header
 * spells them ({@code CUresult cuMemAlloc_v2(CUdeviceptr*, size_t);}), and bound through FFM from
 * that table: the Java side never repeats a signature by hand. The same text is what the header
 * test compiles against cuda.h, so a prototype that drifts from the header fails a test.
 *
 * <pre>{@code
 * CFunctions api = CFunctions.parse("libcuda.so.1", "CUresult cuInit(unsigned int);");
 * CFunctions.Bound cuda = api.bind(library);
 * int status = (int) cuda.invoke("cuInit", 0);
 * }</pre>
 */
public record CFunctions(String library, Map<String, Prototype> prototypes) {

    /** One C function: return type, name and parameter types, as in the header. */
    public record Prototype(String returnType, String name, List<String> parameterTypes) {
        public Prototype { parameterTypes = List.copyOf(parameterTypes); }

        public FunctionDescriptor descriptor() {
            MemoryLayout[] args = new MemoryLayout[parameterTypes.size()];
            for (int i = 0; i < args.length; i++) args[i] = layout(parameterTypes.get(i), name);
            return returnType.equals("void") ? FunctionDescriptor.ofVoid(args) : FunctionDescriptor.of(layout(returnType, name), args);
        }

        /** The prototype as C, for error messages and the header test. */
        public String c() { return returnType + " " + name + "(" + String.join(", ", parameterTypes) + ")"; }
    }

    // C types by how they cross the ABI. Enums and status codes are ints; CUdeviceptr is 64-bit.
    static final Set<String> INTS = Set.of("int", "unsigned int", "CUresult", "CUdevice", "CUdevice_attribute",
            "CUstreamCaptureMode", "cublasStatus_t", "cublasOperation_t", "cublasComputeType_t", "cublasGemmAlgo_t", "cublasMath_t", "cudaDataType",
            "cudaDataType_t", "libraryPropertyType", "nvrtcResult", "cublasLtMatmulDescAttributes_t",
            "cublasLtMatrixLayoutAttribute_t", "cublasLtMatmulPreferenceAttributes_t", "cublasLtEpilogue_t");
    static final Set<String> LONGS = Set.of("size_t", "CUdeviceptr", "long long", "unsigned long long", "int64_t", "uint64_t");
    static final Set<String> HANDLES = Set.of("CUcontext", "CUmodule", "CUfunction", "CUstream", "CUevent", "CUgraph",
            "CUgraphExec", "CUgraphNode", "cublasHandle_t", "cublasLtHandle_t", "cublasLtMatmulDesc_t", "cublasLtMatrixLayout_t",
            "cublasLtMatmulPreference_t", "nvrtcProgram", "cudaStream_t");

    // cuDNN 9 and NCCL: status codes and enums are ints, handles and descriptors pointers.
    static final Set<String> LIBRARY_INTS = Set.of("cudnnStatus_t", "cudnnDataType_t", "cudnnTensorFormat_t", "cudnnConvolutionMode_t",
            "cudnnConvolutionFwdAlgo_t", "cudnnConvolutionBwdDataAlgo_t", "cudnnConvolutionBwdFilterAlgo_t", "cudnnMathType_t",
            "cudnnActivationMode_t", "cudnnNanPropagation_t", "cudnnPoolingMode_t", "cudnnSoftmaxAlgorithm_t", "cudnnSoftmaxMode_t", "cudnnBatchNormMode_t",
            "cudnnBackendDescriptorType_t",
            "cudnnBackendAttributeName_t", "cudnnBackendAttributeType_t", "ncclResult_t", "ncclDataType_t", "ncclRedOp_t");
    static final Set<String> LIBRARY_HANDLES = Set.of("cudnnHandle_t", "cudnnTensorDescriptor_t", "cudnnFilterDescriptor_t",
            "cudnnConvolutionDescriptor_t", "cudnnActivationDescriptor_t", "cudnnPoolingDescriptor_t", "cudnnBackendDescriptor_t", "ncclComm_t");
    /** Structs passed by value: NCCL's unique id is 128 bytes (NCCL_UNIQUE_ID_BYTES), given to ncclCommInitRank as is. */
    static final java.util.Map<String, MemoryLayout> BY_VALUE = java.util.Map.of(
            "ncclUniqueId", MemoryLayout.structLayout(MemoryLayout.sequenceLayout(128, java.lang.foreign.ValueLayout.JAVA_BYTE).withName("internal")));

    static MemoryLayout layout(String cType, String function) {
        String t = cType.replace("const ", "").trim();
        if (t.endsWith("*") || HANDLES.contains(t) || LIBRARY_HANDLES.contains(t)) return ADDRESS;
        if (INTS.contains(t) || LIBRARY_INTS.contains(t)) return JAVA_INT;
        if (BY_VALUE.containsKey(t)) return BY_VALUE.get(t);
        if (t.equals("double")) return java.lang.foreign.ValueLayout.JAVA_DOUBLE;
        if (LONGS.contains(t)) return JAVA_LONG;
        if (t.equals("float")) return JAVA_FLOAT;
        throw new IllegalArgumentException("C type '" + cType + "' in " + function + " has no FFM layout: add it to CFunctions");
    }

    /** Parses "ret name(type, type);" lines; blank lines and // comments are skipped. */
    public static CFunctions parse(String library, String table) {
        Map<String, Prototype> out = new LinkedHashMap<>();
        for (String raw : table.split("\n")) {
            String line = raw.strip();
            int comment = line.indexOf("//");
            if (comment >= 0) line = line.substring(0, comment).strip();
            if (line.isEmpty()) continue;
            int open = line.indexOf('('), close = line.lastIndexOf(')');
            if (open < 0 || close < open || !line.endsWith(";")) throw new IllegalArgumentException("not a C prototype in the " + library + " table: " + raw);
            String head = line.substring(0, open).strip();
            int sp = head.lastIndexOf(' ');
            String name = head.substring(sp + 1);
            List<String> params = new ArrayList<>();
            String list = line.substring(open + 1, close).strip();
            if (!list.isEmpty() && !list.equals("void")) for (String p : list.split(",")) params.add(p.strip());
            Prototype p = new Prototype(head.substring(0, sp).strip(), name, params);
            p.descriptor();   // an unknown type fails here, at class load, naming the function
            if (out.put(name, p) != null) throw new IllegalArgumentException(name + " is declared twice in the " + library + " table");
        }
        return new CFunctions(library, Map.copyOf(out));
    }

    /** Binds every prototype the library exports; the missing ones fail only when called, naming the library. */
    public Bound bind(SharedLibrary lib) {
        Linker linker = Linker.nativeLinker();
        Map<String, MethodHandle> handles = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (Prototype p : prototypes.values()) {
            var symbol = lib.lookup().find(p.name());
            if (symbol.isPresent()) handles.put(p.name(), linker.downcallHandle(symbol.get(), p.descriptor()));
            else missing.add(p.name());
        }
        return new Bound(this, lib, Map.copyOf(handles), List.copyOf(missing));
    }

    /** The table bound to one loaded library. */
    public record Bound(CFunctions api, SharedLibrary library, Map<String, MethodHandle> handles, List<String> missing) {

        public boolean has(String name) { return handles.containsKey(name); }

        /**
         * Calls {@code name} with boxed arguments (ints, longs, floats, MemorySegments). Fine for
         * the cold calls of a driver binding; a steady-state step is replayed as a CUDA graph.
         */
        public Object invoke(String name, Object... args) {
            MethodHandle h = handles.get(name);
            if (h == null) {
                if (!api.prototypes().containsKey(name)) throw new IllegalArgumentException(name + " is not in the " + api.library() + " table");
                throw new IllegalStateException(library.soname() + " (" + library.location() + ") has no symbol " + name
                        + ": the library is too old for Kiln; update it");
            }
            try {
                return h.invokeWithArguments(args);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("native call " + name + " failed", t);
            }
        }

        public int status(String name, Object... args) { return (int) invoke(name, args); }

        public MemorySegment pointer(String name, Object... args) { return (MemorySegment) invoke(name, args); }
    }
}
