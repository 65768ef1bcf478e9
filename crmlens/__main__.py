from crmlens.cli import main

main()
