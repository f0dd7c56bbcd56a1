Console.Error.WriteLine("profefe: being written (issue 3)");
return 2;
