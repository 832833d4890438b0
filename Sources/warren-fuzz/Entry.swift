#if canImport(Glibc)
    import Glibc
#endif

#if FUZZING
    /// libFuzzer's driver, from `libclang_rt.fuzzer_no_main` (see `make fuzz`).
    @_silgen_name("LLVMFuzzerRunDriver")
    func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    /// The executable's entry point (SwiftPM names it after the module): hands control to
    /// libFuzzer, which calls back with each input.
    @_cdecl("warren_fuzz_main")
    func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        var count = argc
        var arguments = argv
        return runFuzzerDriver(&count, &arguments) { data, size in
            guard let data else { return 0 }
            FuzzTarget.selected.run(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        }
    }
#else
    /// Without the fuzzer: replays the files named on the command line (a corpus, or saved
    /// crashing inputs) through `WARREN_FUZZ_TARGET`, so `make test` re-checks them.
    @main
    struct CorpusReplay {
        static func main() throws {
            let target = FuzzTarget.selected
            var count = 0
            for path in CommandLine.arguments.dropFirst() {
                guard let file = fopen(path, "rb") else {
                    print("warren-fuzz: cannot open \(path)")
                    exit(1)
                }
                var bytes: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 65_536)
                while true {
                    let read = fread(&chunk, 1, chunk.count, file)
                    if read <= 0 { break }
                    bytes += chunk[0..<read]
                }
                fclose(file)
                bytes.withUnsafeBytes { target.run($0) }
                count += 1
            }
            print("warren-fuzz: \(target.rawValue): \(count) inputs ran clean")
        }
    }
#endif
