// OpenBLAS's dgemm (Debian's libopenblas-dev, through CBLAS): the only Swift code that calls it.
// OpenBLAS runs single-threaded here; snnc spreads whole batches over its own workers, so a
// result never depends on how many threads there are.
import COpenBLAS
#if canImport(Glibc)
import Glibc
#endif

public enum BLAS {
    /// The kernels OpenBLAS should be told to use (`OPENBLAS_CORETYPE`) because it did not
    /// recognise this CPU and fell back to its generic ones; nil when its own choice stands.
    /// OpenBLAS reads the variable when it loads, so a program acts on this by running itself
    /// again with the variable set (snnc's main does, once).
    public static var suggestedCoreType: String? {
        guard let p = snnc_openblas_suggested_core() else { return nil }
        return String(cString: p)
    }

    /// Called first thing by a program's main: when OpenBLAS did not recognise the CPU and loaded
    /// its generic kernels, runs the program again with OPENBLAS_CORETYPE naming the kernels the
    /// CPU can run (`suggestedCoreType`). Once only: an OPENBLAS_CORETYPE already set, by the user
    /// or by this, is left alone; if the exec fails the program goes on with the generic kernels.
    public static func useFastKernels() {
        guard getenv("OPENBLAS_CORETYPE") == nil, let core = suggestedCoreType else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
    }

    /// The kernels OpenBLAS runs ("SkylakeX", "Haswell", …).
    public static var coreType: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    /// One thread inside OpenBLAS, set once before the first product.
    private static let singleThreaded: Bool = {
        openblas_set_num_threads(1)
        return true
    }()

    /// C[m×n] = A[m×k] · B (B[k×n], or B[n×k] read transposed when `transposeB`), row-major.
    /// Sizes that do not match the buffers, or exceed BLAS's 32-bit dimensions, leave C zero and
    /// return false.
    @discardableResult
    static func gemm(m: Int, n: Int, k: Int, _ a: UnsafeBufferPointer<Double>, _ b: UnsafeBufferPointer<Double>, transposeB: Bool,
                     _ c: UnsafeMutableBufferPointer<Double>) -> Bool {
        _ = singleThreaded
        guard m >= 0, n >= 0, k >= 0, m <= Int(Int32.max), n <= Int(Int32.max), k <= Int(Int32.max),
              c.count == m * n, a.count == m * k, b.count == k * n else {
            if let base = c.baseAddress { base.update(repeating: 0, count: c.count) }
            return false
        }
        guard m > 0, n > 0 else { return true }
        guard k > 0, let pa = a.baseAddress, let pb = b.baseAddress, let pc = c.baseAddress else {
            c.baseAddress?.update(repeating: 0, count: c.count)
            return true
        }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans, blasint(m), blasint(n), blasint(k),
                    1, pa, blasint(k), pb, blasint(transposeB ? k : n), 0, pc, blasint(n))
        return true
    }
}
