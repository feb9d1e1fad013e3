// swift-tools-version: 6.0
// snnc — a toolchain that maps adaptive spiking neural networks (ASN) onto neuromorphic chips.
//
// Targets are layered; each depends only on the ones above it (see Docs/architecture.md):
//   CJSONC → SNNCJSON → SNNCIR → SNNCArtefact (format, core images) → SNNCHardware → SNNCPasses
//   (passes, mapper, emit);  SNNCIR → SNNCReference (float reference);  SNNCArtefact → SNNCEmulator
//   SNNCIR → SNNCImport (ONNX through swift-protobuf);
//   all of them → SNNCDriver → snnc (the CLI);  SNNCFuzz → snnc-fuzz (fuzzing)
import Foundation
import PackageDescription

// The emulator's loops (delivery, the neuron updates) are compiled for the CPU that builds them,
// so LLVM vectorises their 64-bit integer arithmetic with the widest vectors it has — as Arbor
// builds for ARB_ARCH=native. Integer results do not depend on it. For a binary that runs on any
// x86-64 (or aarch64) machine: SNNC_TARGET_CPU=x86-64 (any LLVM CPU name), or "" for the default.
let targetCPU = Context.environment["SNNC_TARGET_CPU"] ?? "native"
let hotLoops: [SwiftSetting] = targetCPU.isEmpty ? [] : [.unsafeFlags(["-target-cpu", targetCPU])]

// MPI (snnc-mpi, Docs/mpi.md) is built only where Open MPI's development files are installed
// (Debian: libopenmpi-dev), so `swift build` never needs MPI; SNNC_MPI=0 leaves it out anyway.
let pkgConfigDirs = ["/usr/lib/x86_64-linux-gnu/pkgconfig", "/usr/lib/aarch64-linux-gnu/pkgconfig", "/usr/lib/pkgconfig", "/usr/local/lib/pkgconfig", "/usr/share/pkgconfig"]
let withMPI = Context.environment["SNNC_MPI"] != "0" && pkgConfigDirs.contains { FileManager.default.fileExists(atPath: $0 + "/ompi-c.pc") }

let package = Package(
    name: "snnc",
    products: [
        .executable(name: "snnc", targets: ["snnc"]),
        .library(name: "SNNCIR", targets: ["SNNCIR"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // ONNX's protobuf (SNNCImport); the Swift code is generated once from onnx.proto and
        // committed (Docs/onnx.md), so builds never need protoc or its plugin.
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // A binary heap (HeapModule only): the graph's topological order, earliest node first.
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        // json-c from Debian (libjson-c-dev): the one JSON parser/serialiser snnc uses.
        .systemLibrary(
            name: "CJSONC",
            pkgConfig: "json-c",
            providers: [.apt(["libjson-c-dev"])]
        ),
        // zlib from Debian (zlib1g-dev): gunzip for IDX data sets (MNIST, Fashion-MNIST ship as .gz),
        // .npz entries, and the artefact's deflated core images; wrapped once, in SNNCIR/Zlib.swift.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // libdeflate from Debian (libdeflate-dev): writes the core images' zlib streams 2.5× faster
        // than zlib's level 1 at the same size (ResNet-18's 900 MB of images); zlib still reads
        // them. Wrapped once, in SNNCIR/Zlib.swift.
        .systemLibrary(name: "CLibDeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        // OpenSSL's libcrypto from Debian (libssl-dev): SHA-256 for the artefact's manifest (the
        // model, weights, profile and every file); wrapped once, in SNNCArtefact/ArtefactFormat.swift.
        .systemLibrary(name: "CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // OpenBLAS from Debian (libopenblas-dev): the ANN's dense layers and convolutions (im2col)
        // as matrix products over a batch; wrapped once, in SNNCReference/BLAS.swift.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // HDF5 from Debian (libhdf5-dev, the serial build): NIR files are HDF5; wrapped once, in
        // SNNCImport/HDF5.swift (a small shim exports the macros Swift cannot import).
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5-serial", providers: [.apt(["libhdf5-dev"])]),
        // The only Swift code that touches json-c: owns reference counts, never leaks.
        .target(name: "SNNCJSON", dependencies: ["CJSONC"]),
        // The IR: diagnostics, tensors (inline or memory-mapped safetensors), the model graph,
        // its loader, shape inference, validation and per-node statistics.
        .target(name: "SNNCIR", dependencies: ["SNNCJSON", "CZlib", "CLibDeflate", .product(name: "HeapModule", package: "swift-collections")]),
        // Hardware profiles: chip limits and number formats, read from HardwareProfiles/*.json —
        // embedded in the binary (Sources/SNNCHardware/Profiles links to HardwareProfiles/), so an
        // installed snnc finds them anywhere.
        .target(name: "SNNCHardware", dependencies: ["SNNCIR", "SNNCJSON"], resources: [.embedInCode("Profiles")]),
        // The compiler: the pass pipeline (one list, Pipeline.swift), one pass per file — the front
        // half (quantisation), the mapper (Mapper/: partition, place, route, check-routes) and the
        // back end (Emit/: build-synapses, emit — the artefact's files).
        .target(name: "SNNCPasses", dependencies: ["SNNCIR", "SNNCJSON", "SNNCHardware", "SNNCArtefact"]),
        // The float reference: ASN transfer function, neuron, ANN evaluator, spiking simulator,
        // metrics and data-set readers. The yardstick every compiled result is measured against.
        .target(name: "SNNCReference", dependencies: ["SNNCIR", "SNNCJSON", "COpenBLAS"], swiftSettings: hotLoops),
        // The artefact format (Docs/artefact.md): file names, magics, the manifest and its
        // verification, byte helpers — used by the writer (SNNCDriver) and the reader (SNNCEmulator).
        .target(name: "SNNCArtefact", dependencies: ["SNNCIR", "SNNCJSON", "CLibCrypto"]),
        // The fixed-point emulator: reads a compiled artefact directory only (Docs/fixed-point.md).
        .target(name: "SNNCEmulator", dependencies: ["SNNCIR", "SNNCJSON", "SNNCArtefact"], swiftSettings: hotLoops),
        // Other model formats read into the IR: ONNX (Docs/onnx.md), NIR (Docs/nir.md).
        .target(name: "SNNCImport", dependencies: ["SNNCIR", "CHDF5", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // The driver: what each subcommand does, as library code the tests call in-process.
        .target(name: "SNNCDriver", dependencies: ["SNNCIR", "SNNCJSON", "SNNCHardware", "SNNCPasses", "SNNCReference", "SNNCArtefact", "SNNCEmulator", "SNNCImport"]),
        // The thin command-line front end.
        .executableTarget(
            name: "snnc",
            dependencies: [
                "SNNCDriver",
                "SNNCPasses",
                "SNNCReference",
                "SNNCImport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The fuzz targets (Docs/fuzzing.md): the readers and the compiler driven by one byte string,
        // shared by the libFuzzer binary and the crash-corpus tests.
        .target(name: "SNNCFuzz", dependencies: ["SNNCIR", "SNNCHardware", "SNNCPasses", "SNNCReference", "SNNCArtefact", "SNNCEmulator", "SNNCImport"]),
        // libFuzzer entry point (Tests/Fuzz/run.sh builds it with -DSNNC_FUZZ -sanitize=fuzzer,address);
        // a replay/pack tool in normal builds.
        .executableTarget(name: "snnc-fuzz", dependencies: ["SNNCFuzz", "SNNCIR"]),
        // Load/validate benchmark (prints seconds and peak RSS; never run by the test suite).
        .executableTarget(
            name: "snnc-bench",
            dependencies: ["SNNCDriver", "SNNCIR", "SNNCJSON", "SNNCReference", "SNNCEmulator"],
            path: "Benchmarks/snnc-bench"
        ),
        .testTarget(name: "SNNCJSONTests", dependencies: ["SNNCJSON"]),
        .testTarget(name: "SNNCIRTests", dependencies: ["SNNCIR", "SNNCJSON"], exclude: ["Corpus"]),
        .testTarget(name: "SNNCHardwareTests", dependencies: ["SNNCHardware", "SNNCIR"], exclude: ["Corpus"]),
        .testTarget(name: "SNNCPassesTests", dependencies: ["SNNCPasses", "SNNCHardware", "SNNCIR", "SNNCJSON", "SNNCArtefact", "SNNCReference", "SNNCDriver"]),
        .testTarget(name: "SNNCReferenceTests", dependencies: ["SNNCReference", "SNNCIR", "SNNCJSON"], exclude: ["Fixtures"]),
        .testTarget(name: "SNNCFuzzTests", dependencies: ["SNNCFuzz"], exclude: ["Corpus"]),
        .testTarget(name: "SNNCImportTests", dependencies: ["SNNCImport", "SNNCIR", "SNNCJSON", "SNNCReference"], exclude: ["Corpus"]),
        .testTarget(name: "SNNCDriverTests", dependencies: ["SNNCDriver", "SNNCIR", "SNNCJSON", "SNNCPasses", "SNNCHardware", "SNNCReference", "SNNCArtefact", "SNNCEmulator"],
                    exclude: ["Golden", "Profiles", "Models"]),
    ]
)

if withMPI {
    package.products.append(.executable(name: "snnc-mpi", targets: ["snnc-mpi"]))
    package.targets += [
        // Open MPI from Debian (libopenmpi-dev), with a shim for the handles that are macros.
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        // The MPI wrapper (MPI.swift, the only Swift code that calls MPI) and the distribution of
        // an emulation over ranks: by chips (a SpikeExchange and a Collective on MPI) or by images.
        .target(name: "SNNCMPI", dependencies: ["CMPI", "SNNCArtefact", "SNNCEmulator", "SNNCReference"]),
        // `mpirun -np R snnc-mpi emulate …`.
        .executableTarget(name: "snnc-mpi", dependencies: ["SNNCMPI", "SNNCDriver", "SNNCEmulator", "SNNCArtefact", "SNNCIR", "SNNCJSON"]),
        // Runs snnc-mpi under mpirun against single-process runs (needs openmpi-bin).
        .testTarget(name: "SNNCMPITests", dependencies: ["SNNCDriver", "SNNCIR", "SNNCJSON"], exclude: ["Profiles"]),
    ]
}
