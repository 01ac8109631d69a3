; Bore installer for Windows x64 (NSIS 3). build/dist.mk passes, as absolute paths:
;   VERSION (shown to people), WIN_VERSION (a.b.c.d), EXE, ICON, OUTFILE,
;   and SIGN (a script that signs a file, or does nothing without a certificate).
; Per-machine install into Program Files with a Start Menu shortcut and an
; Add/Remove Programs entry. It does not set Bore to start at login: the app
; manages that itself, per user (a per-machine installer would write it into
; the elevating admin's registry instead).

Unicode true
Target amd64-unicode
ManifestDPIAware true
SetCompressor /SOLID lzma

!include "MUI2.nsh"
!include "x64.nsh"

!define APPNAME "Bore"
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Bore"

Name "${APPNAME}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${APPNAME}"
InstallDirRegKey HKLM "${UNINSTKEY}" "InstallLocation"
RequestExecutionLevel admin
BrandingText "${APPNAME} ${VERSION}"

VIProductVersion "${WIN_VERSION}"
VIFileVersion "${WIN_VERSION}"
VIAddVersionKey "ProductName" "${APPNAME}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${APPNAME} installer"
VIAddVersionKey "CompanyName" "The Bore authors"
VIAddVersionKey "LegalCopyright" "The Bore authors, MIT licence"

!ifdef SIGN
  !finalize '"${SIGN}" "%1"'
  !uninstfinalize '"${SIGN}" "%1"'
!endif

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
; No "Start Bore" box on the finish page: the installer runs elevated, and
; the tray app would inherit that and keep its settings in the admin's profile.

!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_OK|MB_ICONSTOP "This installer is for 64-bit Windows."
    Abort
  ${EndIf}
  SetRegView 64
FunctionEnd

Function un.onInit
  SetRegView 64
FunctionEnd

Section "Bore" SecMain
  SectionIn RO
  SetShellVarContext all
  ; Close a running copy so its exe can be replaced.
  nsExec::Exec '"$SYSDIR\taskkill.exe" /F /IM bore.exe'
  Pop $0
  SetOutPath "$INSTDIR"
  File "/oname=bore.exe" "${EXE}"
  File "/oname=bore.ico" "${ICON}"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  CreateShortcut "$SMPROGRAMS\${APPNAME}.lnk" "$INSTDIR\bore.exe" "tray" "$INSTDIR\bore.ico" 0

  WriteRegStr HKLM "${UNINSTKEY}" "DisplayName" "${APPNAME}"
  WriteRegStr HKLM "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTKEY}" "Publisher" "The Bore authors"
  WriteRegStr HKLM "${UNINSTKEY}" "URLInfoAbout" "https://github.com/boretray/bore"
  WriteRegStr HKLM "${UNINSTKEY}" "DisplayIcon" "$INSTDIR\bore.ico"
  WriteRegStr HKLM "${UNINSTKEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINSTKEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINSTKEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTKEY}" "NoRepair" 1
  WriteRegDWORD HKLM "${UNINSTKEY}" "EstimatedSize" 15000
SectionEnd

Section "Uninstall"
  SetShellVarContext all
  nsExec::Exec '"$SYSDIR\taskkill.exe" /F /IM bore.exe'
  Pop $0
  Delete "$SMPROGRAMS\${APPNAME}.lnk"
  Delete "$INSTDIR\bore.exe"
  Delete "$INSTDIR\bore.ico"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKLM "${UNINSTKEY}"
SectionEnd
