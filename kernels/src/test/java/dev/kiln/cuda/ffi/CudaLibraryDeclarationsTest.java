package dev.kiln.cuda.ffi;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.Annotation;
import java.lang.classfile.AnnotationValue;
import java.lang.classfile.Attributes;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.FieldModel;
import java.lang.classfile.MethodModel;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cuBLAS, cuBLASLt, NVRTC, cuDNN and NCCL tables against the vendors' headers as org.bytedeco:cuda 13.1-9.19-1.5.13
 * generated them: JavaCPP parsed cublas_api.h, cublasLt.h, nvrtc.h, cudnn*.h and nccl.h into Java declarations, one
 * native method per C function (its parameters typed by ABI width, enums annotated with their C type name) and one
 * compile-time constant per enum value and #define. The headers themselves are not installed here and no Maven Central
 * artifact ships them (the bytedeco jars hold no include/ folder), so this is the check we have; the GPU machine's run
 * is where the libraries themselves answer. The class files are read with java.lang.classfile: nothing of JavaCPP is
 * loaded or run.
 *
 * <p>Per prototype: a native method of that name with as many parameters, every parameter and the return of the same
 * ABI class (int, 64-bit, float, double, pointer, struct by value), and where the declaration names an enum type, the
 * same name. Per constant Kiln passes: the header's value. Per struct Kiln sizes: the header's members in order, whose
 * C layout gives the size Kiln uses. Not checked: struct sizes JavaCPP does not record (array lengths), and the
 * driver table, which CudaHeaderTest checks against this machine's real cuda.h.
 */
class CudaLibraryDeclarationsTest {

    static ClassModel declarations(String library) throws IOException {
        String resource = "org/bytedeco/cuda/global/" + library + ".class";
        try (InputStream in = CudaLibraryDeclarationsTest.class.getClassLoader().getResourceAsStream(resource)) {
            assertTrue(in != null, resource + " is not on the test class path: the org.bytedeco:cuda test dependency is missing");
            return ClassFile.of().parse(in.readAllBytes());
        }
    }

    static ClassModel struct(String pkg, String name) throws IOException {
        String resource = "org/bytedeco/cuda/" + pkg + "/" + name + ".class";
        try (InputStream in = CudaLibraryDeclarationsTest.class.getClassLoader().getResourceAsStream(resource)) {
            assertTrue(in != null, resource + " is not on the test class path");
            return ClassFile.of().parse(in.readAllBytes());
        }
    }

    /** "int", "long", "float", "double", "pointer" or "struct" for a Java parameter type of a JavaCPP declaration. */
    static String abi(ClassDesc type, List<Annotation> annotations) {
        if (type.isPrimitive()) {
            return switch (type.descriptorString()) {
                case "I" -> "int";
                case "J" -> "long";
                case "F" -> "float";
                case "D" -> "double";
                case "V" -> "void";
                default -> "primitive " + type.descriptorString();
            };
        }
        for (Annotation a : annotations) if (a.className().stringValue().endsWith("/ByVal;")) return "struct";
        return "pointer";   // String, arrays, buffers, Pointer subclasses: all passed as addresses
    }

    /** Kiln's side: the ABI class of a C type in a table, as CFunctions binds it. */
    static String abi(String cType, String function) {
        if (cType.equals("void")) return "void";
        MemoryLayout l = CFunctions.layout(cType, function);
        if (l instanceof GroupLayout) return "struct";
        if (l.equals(JAVA_INT)) return "int";
        if (l.equals(JAVA_LONG)) return "long";
        if (l.equals(JAVA_FLOAT)) return "float";
        if (l.equals(ValueLayout.JAVA_DOUBLE)) return "double";
        return "pointer";
    }

    static Optional<String> cast(List<Annotation> annotations) {
        for (Annotation a : annotations) {
            if (!a.className().stringValue().equals("Lorg/bytedeco/javacpp/annotation/Cast;")) continue;
            for (var e : a.elements()) {
                if (e.name().stringValue().equals("value") && e.value() instanceof AnnotationValue.OfArray arr && !arr.values().isEmpty()
                        && arr.values().getFirst() instanceof AnnotationValue.OfString s) return Optional.of(s.stringValue());
            }
        }
        return Optional.empty();
    }

    /** Every difference between a table and the generated declarations, one line each (empty: they agree). */
    static List<String> differences(CFunctions table, ClassModel decl) {
        Map<String, List<MethodModel>> byName = new HashMap<>();
        for (MethodModel m : decl.methods()) byName.computeIfAbsent(m.methodName().stringValue(), k -> new ArrayList<>()).add(m);
        List<String> out = new ArrayList<>();
        for (CFunctions.Prototype p : table.prototypes().values()) {
            List<MethodModel> overloads = byName.getOrDefault(p.name(), List.of());
            if (overloads.isEmpty()) { out.add(p.name() + ": not declared in the header"); continue; }
            List<String> problems = new ArrayList<>();
            boolean matched = false;
            for (MethodModel m : overloads) {
                MethodTypeDesc t = m.methodTypeSymbol();
                if (t.parameterCount() != p.parameterTypes().size()) {
                    problems.add(t.parameterCount() + " parameters in the header, " + p.parameterTypes().size() + " in the table");
                    continue;
                }
                List<String> mine = new ArrayList<>();
                List<List<Annotation>> params = m.findAttribute(Attributes.runtimeVisibleParameterAnnotations())
                        .map(a -> a.parameterAnnotations()).orElse(List.of());
                List<Annotation> returns = m.findAttribute(Attributes.runtimeVisibleAnnotations()).map(a -> a.annotations()).orElse(List.of());
                String headerReturn = abi(t.returnType(), returns), tableReturn = abi(p.returnType(), p.name());
                if (!headerReturn.equals(tableReturn)) mine.add("returns " + headerReturn + " in the header, " + tableReturn + " in the table");
                check(cast(returns), p.returnType(), "the return", mine);
                for (int i = 0; i < t.parameterCount(); i++) {
                    List<Annotation> ann = i < params.size() ? params.get(i) : List.of();
                    String h = abi(t.parameterType(i), ann), k = abi(p.parameterTypes().get(i), p.name());
                    if (!h.equals(k)) mine.add("parameter " + (i + 1) + " is " + h + " in the header, " + k + " (" + p.parameterTypes().get(i) + ") in the table");
                    check(cast(ann), p.parameterTypes().get(i), "parameter " + (i + 1), mine);
                }
                if (mine.isEmpty()) { matched = true; break; }
                problems.addAll(mine);
            }
            if (!matched) out.add(p.name() + ": " + String.join("; ", problems.stream().distinct().toList()));
        }
        return out;
    }

    /** Where the header names an enum (or other integer typedef) and the table an integer type, the names must agree. */
    private static void check(Optional<String> headerCast, String tableType, String where, List<String> problems) {
        if (headerCast.isEmpty()) return;
        String h = headerCast.get().replace("const ", "").strip(), k = tableType.replace("const ", "").strip();
        boolean enumLike = h.endsWith("_t") && !h.contains("*") && (CFunctions.INTS.contains(k) || CFunctions.LIBRARY_INTS.contains(k));
        if (enumLike && !h.equals(k) && !(h.equals("cudaDataType") && k.equals("cudaDataType_t"))) {
            problems.add(where + " is " + h + " in the header, " + k + " in the table");
        }
    }

    static Map<String, Integer> constants(ClassModel decl) {
        Map<String, Integer> out = new HashMap<>();
        for (FieldModel f : decl.fields()) {
            f.findAttribute(Attributes.constantValue()).ifPresent(cv -> {
                if (cv.constant().constantValue() instanceof Integer i) out.put(f.fieldName().stringValue(), i);
            });
        }
        return out;
    }

    /** The public static final int constants of a Kiln class, by name (sizes, ending in _BYTES, are checked apart). */
    static Map<String, Integer> kilnConstants(Class<?> c) throws IllegalAccessException {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (Field f : c.getDeclaredFields()) {
            int m = f.getModifiers();
            if (Modifier.isPublic(m) && Modifier.isStatic(m) && Modifier.isFinal(m) && f.getType() == int.class && !f.getName().endsWith("_BYTES")) {
                out.put(f.getName(), f.getInt(null));
            }
        }
        return out;
    }

    static List<String> constantDifferences(Map<String, Integer> kiln, Map<String, Integer> header) {
        List<String> out = new ArrayList<>();
        kiln.forEach((name, value) -> {
            Integer h = header.get(name);
            if (h == null) out.add(name + " is not in the header");
            else if (!h.equals(value)) out.add(name + " is " + h + " in the header, " + value + " in Kiln");
        });
        return out;
    }

    @Test
    void everyLibraryPrototypeMatchesTheHeadersDeclaration() throws IOException {
        assertEquals(List.of(), differences(CudaApis.CUBLAS, declarations("cublas")), "cuBLAS table");
        assertEquals(List.of(), differences(CudaApis.CUBLASLT, declarations("cublas")), "cuBLASLt table");
        assertEquals(List.of(), differences(CudaApis.NVRTC, declarations("nvrtc")), "NVRTC table");
        assertEquals(List.of(), differences(CudaApis.CUDNN, declarations("cudnn")), "cuDNN table");
        assertEquals(List.of(), differences(CudaApis.NCCL, declarations("nccl")), "NCCL table");
        assertTrue(CudaApis.CUBLAS.prototypes().keySet().containsAll(List.of("cublasGemmEx", "cublasGemmStridedBatchedEx")));
        assertTrue(CudaApis.CUDNN.prototypes().keySet().containsAll(List.of("cudnnConvolutionForward", "cudnnConvolutionBackwardData",
                "cudnnConvolutionBackwardFilter", "cudnnGetConvolutionForwardAlgorithm_v7", "cudnnGetConvolutionForwardWorkspaceSize",
                "cudnnBackendExecute", "cudnnConvolutionBiasActivationForward")));
    }

    @Test
    void aPrototypeThatDiffersFromTheHeaderIsCaught() throws IOException {
        CFunctions wrong = CFunctions.parse("libcudnn.so.9", """
                cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t, cudnnDataType_t);
                cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t, const cudnnTensorDescriptor_t, const cudnnFilterDescriptor_t, const cudnnConvolutionDescriptor_t, const cudnnTensorDescriptor_t, cudnnConvolutionFwdAlgo_t, int);
                cudnnStatus_t cudnnDestroy(cudnnHandle_t, int);
                cudnnStatus_t cudnnKilnInvented(void);
                """);
        Map<String, String> d = new HashMap<>();
        for (String line : differences(wrong, declarations("cudnn"))) d.put(line.substring(0, line.indexOf(':')), line);
        assertEquals(4, d.size(), d.toString());
        assertTrue(d.get("cudnnSetConvolutionMathType").contains("parameter 2 is cudnnMathType_t in the header, cudnnDataType_t in the table"), d.toString());
        assertTrue(d.get("cudnnGetConvolutionForwardWorkspaceSize").contains("parameter 7 is pointer in the header, int (int) in the table"), d.toString());
        assertTrue(d.get("cudnnDestroy").contains("1 parameters in the header, 2 in the table"), d.toString());
        assertEquals("cudnnKilnInvented: not declared in the header", d.get("cudnnKilnInvented"));
    }

    @Test
    void everyConstantKilnPassesHasTheHeadersValue() throws Exception {
        assertEquals(List.of(), constantDifferences(kilnConstants(Cudnn.class), constants(declarations("cudnn"))), "cuDNN constants");
        assertEquals(List.of(), constantDifferences(kilnConstants(CublasLt.class), constants(declarations("cublas"))), "cuBLASLt constants");
        // cublasGemmEx's arguments: the compute type and algorithm (cublas_api.h), the data types (library_types.h, in cudart)
        assertEquals(List.of(), constantDifferences(new LinkedHashMap<>(Map.of("CUBLAS_COMPUTE_32F", Cublas.CUBLAS_COMPUTE_32F,
                "CUBLAS_GEMM_DEFAULT", Cublas.CUBLAS_GEMM_DEFAULT)), constants(declarations("cublas"))), "cuBLAS GemmEx constants");
        assertEquals(List.of(), constantDifferences(new LinkedHashMap<>(Map.of("CUDA_R_32F", Cublas.CUDA_R_32F, "CUDA_R_16F", Cublas.CUDA_R_16F,
                "CUDA_R_16BF", Cublas.CUDA_R_16BF)), constants(declarations("cudart"))), "cudaDataType constants");
        Map<String, Integer> nccl = new LinkedHashMap<>();
        nccl.put("ncclSuccess", Nccl.NCCL_SUCCESS);
        nccl.put("ncclFloat32", Nccl.NCCL_FLOAT32);
        nccl.put("ncclBfloat16", Nccl.NCCL_BFLOAT16);
        nccl.put("ncclSum", Nccl.NCCL_SUM);
        nccl.put("ncclAvg", Nccl.NCCL_AVG);
        nccl.put("NCCL_UNIQUE_ID_BYTES", Nccl.NCCL_UNIQUE_ID_BYTES);
        assertEquals(List.of(), constantDifferences(nccl, constants(declarations("nccl"))), "NCCL constants");
        assertEquals(List.of("CUDNN_DATA_FLOAT is 0 in the header, 1 in Kiln", "CUDNN_KILN is not in the header"),
                constantDifferences(new LinkedHashMap<>(Map.of("CUDNN_DATA_FLOAT", 1)) {{ put("CUDNN_KILN", 0); }}, constants(declarations("cudnn"))));
        assertEquals(NCCL_UNIQUE_ID_LAYOUT_BYTES, CFunctions.BY_VALUE.get("ncclUniqueId").byteSize());
    }

    static final long NCCL_UNIQUE_ID_LAYOUT_BYTES = Nccl.NCCL_UNIQUE_ID_BYTES;

    /** A struct's value members in declaration order, as "name:abi" (JavaCPP declares a getter per member, then its setter). */
    static List<String> members(ClassModel struct) {
        List<String> out = new ArrayList<>();
        for (MethodModel m : struct.methods()) {
            if ((m.flags().flagsMask() & ClassFile.ACC_NATIVE) == 0 || (m.flags().flagsMask() & ClassFile.ACC_STATIC) != 0) continue;
            MethodTypeDesc t = m.methodTypeSymbol();
            String name = m.methodName().stringValue();
            if (name.equals("position") || name.equals("getPointer") || name.equals("allocate") || name.equals("allocateArray")) continue;
            boolean getter = t.parameterCount() == 0 || (t.parameterCount() == 1 && t.parameterType(0).descriptorString().equals("I"));
            if (!getter || t.returnType().descriptorString().equals("V") || t.returnType().equals(struct.thisClass().asSymbol())) continue;
            String member = name + (t.parameterCount() == 1 ? "[]" : "") + ":" + abi(t.returnType(), List.of());
            if (!out.contains(member)) out.add(member);
        }
        // An array member has an indexed getter (name[]) and also one that returns the array as a pointer: keep the first.
        out.removeIf(m -> m.endsWith(":pointer") && out.stream().anyMatch(o -> o.startsWith(m.substring(0, m.indexOf(':')) + "[]:")));
        return out;
    }

    @Test
    void theStructSizesKilnUsesFollowTheHeadersMembers() throws IOException {
        // cudnnConvolutionFwdAlgoPerf_t (and its backward twins): the members, then their C layout on x86-64
        assertEquals(List.of("algo:int", "status:int", "time:float", "memory:long", "determinism:int", "mathType:int", "reserved[]:int"),
                members(struct("cudnn", "cudnnConvolutionFwdAlgoPerf_t")));
        assertEquals(members(struct("cudnn", "cudnnConvolutionFwdAlgoPerf_t")), members(struct("cudnn", "cudnnConvolutionBwdDataAlgoPerf_t")));
        assertEquals(members(struct("cudnn", "cudnnConvolutionFwdAlgoPerf_t")), members(struct("cudnn", "cudnnConvolutionBwdFilterAlgoPerf_t")));
        MemoryLayout perf = MemoryLayout.structLayout(JAVA_INT, JAVA_INT, JAVA_FLOAT, MemoryLayout.paddingLayout(4), JAVA_LONG, JAVA_INT, JAVA_INT,
                MemoryLayout.sequenceLayout(3, JAVA_INT), MemoryLayout.paddingLayout(4));
        assertEquals(Cudnn.ALGO_PERF_BYTES, perf.byteSize());
        // cublasLtMatmulHeuristicResult_t: algo (uint64_t data[8]), workspaceSize, state, wavesCount, reserved[4]
        assertEquals(List.of("algo:pointer", "workspaceSize:long", "state:int", "wavesCount:float", "reserved[]:int"),
                members(struct("cublas", "cublasLtMatmulHeuristicResult_t")));
        assertEquals(List.of("data[]:long"), members(struct("cublas", "cublasLtMatmulAlgo_t")));
        MemoryLayout heuristic = MemoryLayout.structLayout(MemoryLayout.sequenceLayout(8, JAVA_LONG), JAVA_LONG, JAVA_INT, JAVA_FLOAT,
                MemoryLayout.sequenceLayout(4, JAVA_INT));
        assertEquals(CublasLt.HEURISTIC_RESULT_BYTES, heuristic.byteSize());
        assertFalse(members(struct("cudnn", "cudnnConvolutionFwdAlgoPerf_t")).isEmpty());
    }
}
