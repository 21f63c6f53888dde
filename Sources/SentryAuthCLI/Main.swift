#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@main
enum Main {
    static func main() async {
        let status = await CommandLineTool(console: .standard).run(Array(CommandLine.arguments.dropFirst()))
        exit(status)
    }
}
