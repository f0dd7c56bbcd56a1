Console.Error.WriteLine("profefe load driver: being written (issue 3)");
return 2;
