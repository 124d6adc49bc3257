@echo off
REM Weekly housekeeping on ACME-DC01, run by Task Scheduler as SYSTEM.
setlocal
set LOGROOT=D:\Logs
set ARCHIVE=\\acme-nas01\backup\logs

REM Move last week's IIS and app logs to the NAS.
robocopy "%LOGROOT%" "%ARCHIVE%\%COMPUTERNAME%" *.log /S /MOV /MINAGE:7 /R:2 /W:5 /NP
if %ERRORLEVEL% GEQ 8 goto :fail

REM Delete anything older than 30 days that is left.
forfiles /p "%LOGROOT%" /s /m *.log /d -30 /c "cmd /c del @path"

REM Fetch the latest log-shipper config.
curl -fsS -o "%TEMP%\shipper.yml" https://config.acme-dental.example/shipper.yml
copy /y "%TEMP%\shipper.yml" "C:\Program Files\Shipper\shipper.yml" >nul

REM Give the shipper service time to settle before restarting it.
timeout /t 10 /nobreak
net stop LogShipper
net start LogShipper

setx /M PATH "%PATH%;C:\Program Files\Shipper"
exit /b 0

:fail
echo robocopy failed with %ERRORLEVEL%
exit /b 1
